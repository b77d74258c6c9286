"""What the quality corpus says: eight narrated lectures of short topics, with labelled queries.

Kept apart from the renderer (``bench.quality_corpus``) because it is data, and it is the part that
makes the benchmark hard or easy. It is built to be hard on purpose:

- near-topic distractors across lectures: photosynthesis / autumn leaves, cell respiration /
  rising bread, osmosis / pickling, tides / moon phases, tariffs / the Silk Road, seasons /
  autumn leaves, vaccines / antibiotics, boiling on a mountain / volcanoes;
- paraphrases share few content words with what is said, and their everyday words ("green",
  "sugar", "bread", "summer", "expensive") are spoken in *other* topics, so keyword matching misleads;
- exact queries name a rare term that is spoken verbatim and that Whisper tiny.en transcribes
  right (checked on the rendered audio), so keyword search has something to win on.

US spellings throughout, as Whisper writes them.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Topic:
    """2-3 sentences spoken in a row, and the queries that should land on them."""

    key: str                   # unique over the corpus
    sentences: list[str]
    paraphrases: list[str]     # as a person would ask, with few words shared with the sentences
    exact: list[str]           # a rare spoken term, verbatim


@dataclasses.dataclass
class Lecture:
    """One video: its topics in order, how they are spoken, and whether slides mark the topics."""

    name: str                  # file name
    topics: list[Topic]
    voice: str                 # espeak-ng voice (with an optional +variant)
    speed: int                 # words per minute
    slides: bool               # background colour changes at each topic, or one static background
    split: str                 # "dev" (defaults are chosen on it) or "test" (held out)


T = Topic

BIOLOGY = [
    T("photosynthesis",
      ["In the chloroplasts of a leaf, photosynthesis converts light energy into chemical energy "
       "stored as glucose.",
       "Carbon dioxide from the air and water drawn up by the roots are combined, and oxygen is "
       "released as a by-product."],
      ["how do green plants make their own food from the sun",
       "how trees turn sunshine into sugar"],
      ["chloroplasts"]),
    T("cell_respiration",
      ["Cellular respiration releases the energy stored in glucose, and most of it happens inside "
       "the mitochondria.",
       "During the Krebs cycle, carbon atoms are stripped away and leave the cell as carbon dioxide.",
       "The cell captures the released energy in small molecules called ATP, which power almost "
       "everything it does."],
      ["how does the body burn sugar for fuel",
       "where does the carbon dioxide we exhale come from"],
      ["Krebs cycle"]),
    T("mitosis",
      ["Before a cell divides, it copies its chromosomes so that each daughter cell receives a "
       "complete set.",
       "In mitosis the copies line up in the middle and are pulled to opposite ends by spindle "
       "fibers."],
      ["how does one cell split into two identical ones",
       "what happens when a growing body makes new tissue"],
      ["mitosis"]),
    T("dna_replication",
      ["The DNA molecule is a double helix, two strands held together by pairs of bases.",
       "To replicate it, an enzyme unzips the strands, and each one serves as a template for a "
       "new partner."],
      ["how is the genetic code duplicated"],
      ["double helix"]),
    T("enzymes",
      ["Enzymes are proteins that speed up chemical reactions without being used up themselves.",
       "Each enzyme has an active site shaped to fit one molecule, much like a key fits a lock.",
       "In the stomach, pepsin breaks the long proteins in our food into smaller pieces."],
      ["what are biological catalysts and how do they work",
       "how does digestion work in the belly"],
      []),
    T("osmosis",
      ["Osmosis is the movement of water across a membrane from a weak solution to a strong one.",
       "A red blood cell placed in pure water swells and may burst, while in salty water it "
       "shrinks."],
      ["why does a raisin plump up when soaked"],
      []),
    T("natural_selection",
      ["Charles Darwin noticed that finches on the Galapagos Islands had beaks suited to "
       "different foods.",
       "Individuals with useful traits survive and breed more often, so those traits become "
       "common over many generations."],
      ["how do animals change across millions of years to fit their surroundings"],
      ["Charles Darwin"]),
]

EARTH = [
    T("volcanoes",
      ["A volcano erupts when molten rock called magma rises through cracks in the crust and "
       "reaches the surface.",
       "Gas dissolved in the magma expands as the pressure drops, which can blast ash high into "
       "the sky."],
      ["why do mountains explode and spit lava"],
      ["magma"]),
    T("earthquakes",
      ["Earthquakes happen when stress builds up along a fault until the rocks suddenly slip past "
       "each other.",
       "The energy travels outward as seismic waves, which are recorded by instruments called "
       "seismographs.",
       "Their size is often reported on the Richter scale, where each step means about thirty "
       "times more energy."],
      ["why does the ground shake",
       "how do scientists tell how strong a tremor was"],
      ["Richter scale"]),
    T("plate_tectonics",
      ["The outer shell of the Earth is broken into plates that drift a few centimeters every year.",
       "About three hundred million years ago the continents were joined in a single landmass "
       "called Pangaea.",
       "Where two plates collide, the crust crumples upward and builds mountain ranges such as the "
       "Himalayas."],
      ["why did Africa and South America once fit together like a puzzle",
       "how did the tallest peaks on the planet form"],
      ["Himalayas"]),
    T("hurricanes",
      ["Hurricanes form over warm tropical oceans, where evaporating water feeds rising columns of "
       "moist air.",
       "Because of the Coriolis effect, these storms spin counterclockwise in the northern "
       "hemisphere."],
      ["where do typhoons get their strength",
       "why do cyclones rotate the way they do"],
      []),
    T("erosion",
      ["Rivers, wind and ice slowly wear rock away and carry the fragments downstream as sand and "
       "silt.",
       "Over millions of years this process carved deep valleys like the Grand Canyon."],
      ["how does flowing water shape the land over time"],
      ["Grand Canyon"]),
    T("ice_ages",
      ["During the last ice age, thick sheets of ice covered much of North America and northern "
       "Europe.",
       "As the glaciers advanced, they scraped the ground bare and left boulders far from where "
       "they began."],
      ["when was the planet frozen over",
       "why are giant stones lying in fields far from any cliff"],
      []),
    T("tides",
      ["Tides are caused mainly by the pull of the moon on the oceans, with a smaller pull from the "
       "sun.",
       "When the sun and moon line up, the bulges add together and we get especially high spring "
       "tides."],
      ["why does the sea rise and fall twice a day",
       "what makes the ocean creep up the beach and back"],
      []),
]

ECONOMICS = [
    T("inflation",
      ["Inflation is the rate at which the general level of prices rises, so each dollar buys a "
       "little less.",
       "Statisticians track it with the consumer price index, a basket of everyday goods like "
       "bread, fuel and rent."],
      ["why is everything at the supermarket getting more expensive",
       "how is the cost of living measured"],
      ["consumer price index"]),
    T("interest_rates",
      ["A central bank sets a short term interest rate that guides what commercial banks charge "
       "for loans.",
       "When the Federal Reserve raises rates, mortgages become more expensive and people borrow "
       "and spend less.",
       "Cutting rates does the opposite, encouraging businesses to invest during a downturn."],
      ["why did my monthly house payment go up",
       "how do policymakers cool down an overheating economy"],
      ["Federal Reserve"]),
    T("unemployment",
      ["The unemployment rate counts people who are actively looking for work but cannot find a "
       "job.",
       "Those who have given up searching are not included, which can make the official figure "
       "look better than reality."],
      ["what share of adults are jobless"],
      []),
    T("supply_demand",
      ["When a good is scarce and many buyers want it, sellers can raise the price until demand "
       "falls.",
       "If a harvest is unusually large, farmers flood the market and prices drop."],
      ["why do concert tickets cost a fortune when everyone is after them"],
      []),
    T("gdp",
      ["Gross domestic product adds up the value of all goods and services a country produces in a "
       "year.",
       "Two consecutive quarters of shrinking output are commonly described as a recession."],
      ["how big is a nation's economy",
       "when is a slump officially declared"],
      ["gross domestic product"]),
    T("exchange_rates",
      ["An exchange rate tells you how many euros or yen you can buy with one dollar.",
       "A weaker currency makes a country's exports cheaper abroad, but imported goods cost more "
       "at home."],
      ["why does traveling overseas get cheaper when the pound falls",
       "what decides the value of money against foreign cash"],
      []),
    T("tariffs",
      ["A tariff is a tax charged on imported goods, meant to protect local factories from foreign "
       "competition.",
       "Trading partners often respond with tariffs of their own, and a trade war can slow growth "
       "for both sides."],
      ["what happens when governments put duties on products from other nations"],
      ["tariffs"]),
]

MEDICINE = [
    T("vaccines",
      ["A vaccine trains the immune system by showing it a harmless piece or a weakened form of a "
       "germ.",
       "If the real virus arrives later, memory cells recognize it and antibodies are produced "
       "within days.",
       "Edward Jenner made the first vaccine in 1796 using material from cowpox sores."],
      ["how do jabs stop us from catching diseases",
       "who came up with the first shot against smallpox"],
      ["cowpox"]),
    T("antibiotics",
      ["Antibiotics kill bacteria or stop them multiplying, but they do nothing against viruses "
       "like the common cold.",
       "Alexander Fleming discovered penicillin in 1928 when mold contaminated one of his culture "
       "plates.",
       "Overusing these drugs lets resistant strains of bacteria survive and spread to other "
       "patients."],
      ["why won't the doctor give me pills for the flu",
       "which medicine against infections was found by accident"],
      ["penicillin"]),
    T("fever",
      ["A fever is the body raising its thermostat, which makes it harder for many germs to "
       "reproduce.",
       "The signal comes from the hypothalamus, a small region at the base of the brain."],
      ["why does my temperature go up when I am ill",
       "why do we get hot when fighting an infection"],
      ["hypothalamus"]),
    T("diabetes",
      ["In type one diabetes the pancreas stops making insulin, the hormone that lets cells take up "
       "glucose.",
       "Without it, sugar builds up in the blood, so patients check their levels and inject the "
       "hormone several times a day."],
      ["why must some kids prick their finger before meals",
       "why can't some people process sweets properly"],
      ["insulin"]),
    T("circulation",
      ["The heart pumps blood through two loops, one to the lungs to pick up oxygen and one to the "
       "rest of the body.",
       "William Harvey showed in the seventeenth century that blood circulates rather than being "
       "used up."],
      ["how does the air we breathe reach our fingers and toes"],
      []),
    T("sleep",
      ["While we sleep, the brain cycles through light stages, deep stages and rapid eye movement "
       "sleep.",
       "Most vivid dreams happen in that last stage, and adults need roughly seven to nine hours "
       "a night."],
      ["how much rest should a grown up get each evening",
       "when do we have dreams"],
      []),
    T("anesthesia",
      ["General anesthesia switches off awareness and pain, so surgeons can operate safely.",
       "Before ether was first demonstrated in 1846, patients had to stay awake through surgery."],
      ["why don't people feel anything while being cut open in hospital"],
      ["anesthesia"]),
]

SIGNALS = [
    T("sampling",
      ["To record sound digitally, we measure the height of the wave thousands of times every "
       "second.",
       "According to the Nyquist theorem, we must sample at least twice as fast as the highest "
       "frequency we want to keep.",
       "That is why compact discs use forty four thousand one hundred samples per second."],
      ["how fast must you digitize a song to keep the high notes"],
      []),   # tiny.en hears "Nyquist" as "high-quist" or "my twist": no exact query
    T("fourier",
      ["Any repeating signal can be written as a sum of simple sine waves at different frequencies.",
       "The Fourier transform takes a recording and tells us how much of each frequency it "
       "contains."],
      ["how to split a sound into its pitches",
       "which math tool breaks music into separate tones"],
      ["Fourier transform"]),
    T("low_pass",
      ["A low pass filter lets slow changes through while removing rapid wiggles such as hiss.",
       "Engineers describe it by its cutoff frequency, above which the signal is strongly weakened."],
      ["how to get rid of high pitched background noise"],
      []),
    T("mp3",
      ["An MP3 file throws away sounds that the human ear would not notice anyway.",
       "This psychoacoustic trick shrinks a song to about a tenth of its original size."],
      ["how do music files get so small"],
      ["MP3"]),
    T("decibels",
      ["Loudness is measured in decibels, a logarithmic scale where every ten steps mean ten times "
       "more power.",
       "A quiet library sits around thirty decibels, while a rock concert can exceed one hundred."],
      ["how do we put a number on how noisy something is",
       "how loud is a rock gig compared to a quiet room"],
      ["decibels"]),
    T("echo",
      ["An echo is a reflection that reaches the listener long enough after the original sound to "
       "be heard separately.",
       "In a cathedral, thousands of overlapping reflections blend into a long tail called "
       "reverberation."],
      ["why does my voice bounce back in a big empty hall"],
      ["reverberation"]),
    T("noise_cancelling",
      ["Noise cancelling headphones use small microphones to listen to the sound around you.",
       "The electronics then play an inverted copy of that wave, so the two cancel out before "
       "reaching your ear."],
      ["how do earbuds silence the hum of a plane engine",
       "can a speaker make a room quieter"],
      []),
    T("loudspeakers",
      ["A loudspeaker turns an electrical signal back into sound by pushing a paper cone with a "
       "magnet and a coil.",
       "Large cones called woofers move lots of air for the bass, while small tweeters handle the "
       "treble."],
      ["how does a stereo produce music from electricity"],
      ["woofers"]),
]

HISTORY = [
    T("printing_press",
      ["Around 1440, Johannes Gutenberg built a printing press that used movable metal type.",
       "Books that once took scribes months to copy could now be produced by the hundreds, "
       "spreading ideas across Europe."],
      ["how did reading material become cheap in the middle ages",
       "who made mass produced texts possible in Germany"],
      ["Gutenberg"]),
    T("steam_engine",
      ["James Watt improved the steam engine by adding a separate condenser, which saved enormous "
       "amounts of coal.",
       "Steam power drove factories, pumps and locomotives, and launched the industrial revolution "
       "in Britain."],
      ["which invention moved work from farms to mills",
       "what machine let trains run in the eighteen hundreds"],
      ["industrial revolution"]),
    T("telegraph",
      ["The electric telegraph sent messages along wires as short and long pulses of current.",
       "Samuel Morse gave his name to Morse code, an alphabet of dots and dashes, and by 1866 a "
       "cable crossed the Atlantic."],
      ["how did people send news across the ocean before telephones"],
      ["Morse code"]),
    T("aqueducts",
      ["Roman engineers built aqueducts that carried fresh water into cities from springs many "
       "miles away.",
       "The channels sloped gently downhill the whole way, so gravity alone kept the water flowing."],
      ["how did ancient Rome get its drinking supply"],
      []),
    T("light_bulb",
      ["Thomas Edison's team tested thousands of materials before finding a carbon filament that "
       "glowed for hours.",
       "Electric lighting soon replaced gas lamps in homes and streets, and power stations were "
       "built to supply it."],
      ["who gave us indoor illumination without candles"],
      []),
    T("first_flight",
      ["In 1903 the Wright brothers made the first powered, controlled airplane flight near Kitty "
       "Hawk.",
       "Their key insight was warping the wings to steer, an idea borrowed from watching birds."],
      ["who first flew a plane",
       "how did early aviators turn in the air"],
      ["Wright brothers"]),
    T("silk_road",
      ["The Silk Road was a network of caravan routes linking China with Persia and the "
       "Mediterranean.",
       "Merchants carried silk, spices and paper westward, and each city along the way charged "
       "them taxes."],
      ["how did goods travel between east Asia and Europe long ago",
       "which ancient trade route joined China to the west"],
      ["Silk Road"]),
]

ASTRONOMY = [
    T("seasons",
      ["We have seasons because the Earth's axis is tilted by about twenty three degrees.",
       "In June the northern hemisphere leans toward the sun, so days are longer and sunlight "
       "strikes the ground more directly."],
      ["why is it hot in summer and cold in winter"],
      []),
    T("moon_phases",
      ["The moon does not make its own light, and we only see the half that is lit by the sun.",
       "As it orbits us over about twenty nine days, we see more or less of that half, from new "
       "moon to full moon."],
      ["why is there sometimes only a thin crescent in the night sky"],
      []),
    T("eclipses",
      ["A solar eclipse happens when the moon passes directly between the sun and the Earth and "
       "casts a shadow.",
       "Inside the narrow path of totality, the sky darkens in the middle of the day and stars "
       "appear."],
      ["when does daytime suddenly turn dark",
       "what happens when the moon blocks out the sun"],
      ["solar eclipse"]),
    T("stellar_fusion",
      ["Deep in the core of the sun, hydrogen nuclei fuse into helium at about fifteen million "
       "degrees.",
       "A tiny amount of mass disappears in each reaction and becomes energy, exactly as "
       "Einstein's equation predicts."],
      ["what makes stars shine",
       "where does sunshine come from"],
      ["helium"]),
    T("black_holes",
      ["When a very massive star collapses, it can form a black hole whose gravity traps even light.",
       "The boundary beyond which nothing can return is called the event horizon."],
      ["what happens if you fall into a place nothing can escape from",
       "what is the point of no return around a dead star"],
      ["event horizon"]),
    T("light_year",
      ["A light year is not a time but a distance, the length light travels in one year.",
       "That is nearly ten trillion kilometers, so even the nearest star is over four light years "
       "away."],
      ["what unit describes the gap between us and other suns",
       "how far is the closest star"],
      []),
    T("mars_rovers",
      ["Robotic rovers like Curiosity and Perseverance drive slowly across Mars, drilling rocks and "
       "testing the soil.",
       "They search for signs that liquid water once flowed on the red planet billions of years "
       "ago."],
      ["are robots exploring another world looking for past life"],
      ["Perseverance"]),
    T("comets",
      ["Comets are lumps of ice and dust that spend most of their time far beyond the outer "
       "planets.",
       "As one nears the sun, the ice turns to gas and forms a glowing tail that always points "
       "away from it."],
      ["what are the dirty snowballs that streak across the heavens",
       "why do some visitors to the solar system grow tails"],
      []),
]

KITCHEN = [
    T("bread_yeast",
      ["When dough rises, yeast is feeding on the sugars in the flour and giving off bubbles of "
       "carbon dioxide.",
       "The gluten network traps those bubbles, and the heat of the oven sets the airy structure."],
      ["why does a loaf get fluffy",
       "why must you wait before baking a loaf"],
      ["gluten"]),
    T("autumn_leaves",
      ["In autumn, trees stop producing chlorophyll, the green pigment that captures sunlight.",
       "As it fades, yellow and orange pigments that were hidden all summer finally show through.",
       "The red colors come from new pigments that some trees make from sugar trapped in the "
       "leaves."],
      ["why does foliage change in the fall",
       "why do maples go scarlet in October"],
      ["chlorophyll"]),
    T("maillard",
      ["The brown crust on a steak comes from the Maillard reaction between amino acids and sugars.",
       "It only gets going above about one hundred and forty degrees, which is why boiled meat "
       "stays pale."],
      ["why does toast taste better than plain bread"],
      []),
    T("composting",
      ["In a compost heap, bacteria and fungi break down kitchen scraps and garden waste into rich "
       "soil.",
       "Turning the pile adds oxygen, which keeps the microbes working and stops it from smelling."],
      ["how to turn food leftovers into fertilizer"],
      ["compost heap"]),
    T("pickling",
      ["Pickling preserves cucumbers by soaking them in brine or vinegar, which few spoilage "
       "microbes can tolerate.",
       "The salt also pulls water out of the vegetable's cells, keeping it crisp."],
      ["how do you keep gherkins from going bad",
       "why do vegetables in a jar of sour liquid last for months"],
      ["vinegar"]),
    T("boiling_altitude",
      ["On a high mountain, lower air pressure lets water boil at a lower temperature than at sea "
       "level.",
       "That is why pasta takes longer to cook in the Andes, even though the pot is bubbling hard."],
      ["why do noodles take ages to soften on a hiking trip",
       "why is tea never really hot on a summit"],
      []),
    T("ice_cream_salt",
      ["Adding salt to ice lowers its melting point, so the mixture gets colder than ordinary ice.",
       "Old fashioned ice cream makers surround the cream with this salty slush to freeze it quickly."],
      ["how to make frozen desserts at home without a freezer",
       "why do people throw salt on icy roads in winter"],
      []),
    T("refrigeration",
      ["A refrigerator keeps food cold by pumping a refrigerant that absorbs heat as it evaporates "
       "inside the coils.",
       "The warm grille on the back of the fridge is where that heat is dumped into the kitchen."],
      ["why does the back of the icebox feel warm",
       "how does a cooling appliance work"],
      ["refrigerant"]),
    T("emulsions",
      ["Oil and lemon juice do not mix on their own, because the droplets quickly merge and float "
       "apart.",
       "Egg yolk contains lecithin, which coats tiny droplets and holds them apart, and that is how "
       "mayonnaise stays thick and creamy."],
      ["why doesn't salad dressing separate when you add egg"],
      []),
]

del T

LECTURES: list[Lecture] = [
    Lecture("lecture_biology.mp4", BIOLOGY, "en-us", 150, slides=True, split="dev"),
    Lecture("lecture_earth.mp4", EARTH, "en-gb", 140, slides=False, split="dev"),
    Lecture("lecture_economics.mp4", ECONOMICS, "en-gb-x-rp", 165, slides=True, split="dev"),
    Lecture("lecture_signals.mp4", SIGNALS, "en-us+m3", 175, slides=False, split="dev"),
    Lecture("lecture_astronomy.mp4", ASTRONOMY, "en-us+f4", 160, slides=True, split="dev"),
    Lecture("lecture_medicine.mp4", MEDICINE, "en-us+f2", 155, slides=False, split="test"),
    Lecture("lecture_history.mp4", HISTORY, "en-gb+m4", 135, slides=True, split="test"),
    Lecture("lecture_kitchen.mp4", KITCHEN, "en-gb+f2", 185, slides=False, split="test"),
]
