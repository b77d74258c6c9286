// The vidsearch page: search, play at the moment, more like this, similar by file, jobs, copies,
// people (faces: moments, rename, merge, forget, search with a person, find a face from a photo).
// Plain JS against the JSON API; no external resources. The API key, when the server needs
// one, is traded once for an HttpOnly cookie (POST /api/session) so <img> and <video> load too.
// A search's state (text, mode, filters, page size) lives in the URL: shareable, and the back
// button goes back to the previous search.
"use strict";

const $ = (sel) => document.querySelector(sel);
const PAGE = 24;
const FILTERS = [["path_prefix", "#f-path"], ["after", "#f-after"], ["before", "#f-before"],
                 ["min_duration", "#f-min"], ["max_duration", "#f-max"], ["language", "#f-language"]];
const state = { pollJobs: null, query: null, shown: 0, k: PAGE, tags: new Set(), moment: null, videoId: null,
                duration: 0, libOffset: 0, person: null };

function setStatus(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function fmtTime(s) {
  const m = Math.floor(s / 60), sec = (s - m * 60).toFixed(1).padStart(4, "0");
  return `${m}:${sec}`;
}

async function api(url, options = {}) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (_) {}
    if (response.status === 401 || (response.status === 403 && detail.includes("API key"))) {
      $("#key-box").hidden = false;  // 403 also means "not allowed here", e.g. outside the roots
    }
    throw new Error(detail);
  }
  return response.status === 204 ? null : response.json();
}

// Words of the query found in a text, marked (built from text nodes: nothing is parsed as HTML).
function highlight(element, text, words) {
  element.replaceChildren();
  const wanted = new Set(words.map((w) => w.toLowerCase()));
  for (const part of text.split(/(\p{L}[\p{L}\p{N}]*|\p{N}+)/u)) {
    const word = part.toLowerCase();
    if (part && [...wanted].some((w) => w.length > 2 && word.startsWith(w.slice(0, Math.max(3, w.length - 2))))) {
      const mark = document.createElement("mark");
      mark.textContent = part;
      element.appendChild(mark);
    } else if (part) {
      element.appendChild(document.createTextNode(part));
    }
  }
}

// The query's words a moment holds, said or on screen (the API found them), each once.
function matchedWords(m) {
  return [...new Set([...(m.matched_words?.transcript || []), ...(m.matched_words?.screen_text || [])])];
}

// Why a moment is here: the lists that returned it, best rank first, and the words it holds.
function why(m) {
  const lists = Object.entries(m.matched || {}).sort((a, b) => a[1] - b[1]).map(([list, rank]) => `${list} #${rank}`);
  const words = matchedWords(m);
  return lists.join(" · ") + (words.length ? ` — ${words.join(", ")}` : "");
}

function render(answer, label, append = false) {
  const box = $("#results");
  if (!append) box.replaceChildren();
  const t = answer.timings;
  for (const m of answer.moments) {
    const card = $("#result-card").content.firstElementChild.cloneNode(true);
    const words = matchedWords(m);
    card.dataset.segment = m.segment_id;
    card.dataset.start = m.start;
    card.querySelector("img").src = m.thumbnail_url;
    card.querySelector(".range").textContent = `${fmtTime(m.start)}–${fmtTime(m.end)}`;
    card.querySelector(".name").textContent = m.video_name;
    card.querySelector(".name").title = m.video_path;
    card.querySelector(".lang").textContent = m.language || "";  // the language its speech is in
    // A calibrated label where one exists (text queries, speech or keyword evidence); the raw
    // score, which only orders this answer, on hover.
    const score = card.querySelector(".score");
    score.textContent = m.relevance ? `${m.relevance} match` : "match";
    score.dataset.relevance = m.relevance || "none";
    score.title = `score ${m.score.toFixed(4)}`;
    card.querySelector(".why").textContent = m.person ? `face: ${m.person.name || `Person ${m.person.id}`}` : why(m);
    highlight(card.querySelector(".snippet"), m.transcript || "(no speech)", words);
    if (m.screen_text) {
      const screen = card.querySelector(".screen");
      highlight(screen, m.screen_text, words);
      screen.hidden = false;
    }
    if (m.chapter) {  // the chapter it starts in
      const chapter = card.querySelector(".chapter");
      chapter.textContent = `in “${m.chapter}”`;
      chapter.hidden = false;
    }
    card.querySelector(".play").addEventListener("click", () => play(m));
    card.querySelector(".more").addEventListener("click", () => moreLike(m));
    box.appendChild(card);
  }
  setStatus(`${box.children.length} moment(s) for ${label} — ${answer.mode}, ` +
            `encode ${t.encode_ms.toFixed(1)} ms, search ${t.search_ms.toFixed(1)} ms`);
}

function play(m) {
  const player = $("#player");
  $("#player-box").hidden = false;
  $("#player-caption").textContent = `${m.video_name} at ${fmtTime(m.start)}`;
  const src = new URL(m.playback_url, location.href);
  const base = src.href.split("#")[0];
  const toStart = () => seek(m.start);
  if (player.dataset.src === base && player.readyState >= 1) {
    toStart();
  } else {
    player.dataset.src = base;
    player.addEventListener("loadedmetadata", toStart, { once: true });
    player.querySelectorAll("track").forEach((t) => t.remove());
    const captions = document.createElement("track");  // the transcript as WebVTT captions
    Object.assign(captions, { kind: "captions", label: "Transcript", default: true,
                              src: `/api/videos/${m.video_id}/transcript?format=vtt` });
    player.appendChild(captions);
    const chapters = document.createElement("track");  // the chapters, for players that show them
    Object.assign(chapters, { kind: "chapters", label: "Chapters", srclang: "en",
                              src: `/api/videos/${m.video_id}/chapters?format=vtt` });
    player.appendChild(chapters);
    chapters.track.mode = "hidden";  // loaded (its cues are readable) but not drawn over the picture
    player.src = src.href;  // the #t= fragment starts it at the moment too
  }
  $("#player-box").scrollIntoView({ behavior: "smooth", block: "start" });
  showVideo(m);
}

function seek(at) {
  const player = $("#player");
  player.currentTime = at;
  player.play().catch(() => {});
}

// The video view beside the player: the moment on a timeline, the whole transcript (a click
// seeks; the line being said is marked as it plays), the video's other moments.
async function showVideo(m) {
  state.moment = m;
  const lines = $("#transcript-lines"), others = $("#other-moments");
  if (state.videoId !== m.video_id) {
    state.videoId = m.video_id;
    lines.replaceChildren();
    others.replaceChildren();
    showChapters(m.video_id);
    try {
      const video = await api(`/api/videos/${m.video_id}`);
      state.duration = video.duration;
      for (const line of video.transcript) {
        const item = document.createElement("li"), button = document.createElement("button");
        const stamp = document.createElement("time");
        button.type = "button";
        button.dataset.start = line.start;
        button.dataset.end = line.end;
        if (line.language) button.lang = line.language;  // as heard: read aloud in its own language
        stamp.textContent = fmtTime(line.start);
        button.append(stamp);
        if (line.speaker) {  // who speaks it: "Speaker N" until the voice is named
          const who = document.createElement("span");
          who.className = "speaker";
          who.textContent = `${line.speaker}: `;
          button.append(who);
        }
        button.append(line.text);
        button.addEventListener("click", () => seek(line.start));
        item.appendChild(button);
        lines.appendChild(item);
      }
      for (const segment of video.segment_list) {
        const jump = document.createElement("button");
        jump.type = "button";
        jump.textContent = `${fmtTime(segment.start)}–${fmtTime(segment.end)}`;
        jump.title = [segment.transcript || segment.screen_text || "", segment.rendering && `(${segment.rendering})`]
          .filter(Boolean).join(" ");  // words as spoken, and their English rendering when not English
        jump.addEventListener("click", () => seek(segment.start));
        others.appendChild(jump);
      }
    } catch (err) { setStatus(err.message, true); }
  }
  const span = $("#moment-span"), length = state.duration || 1;
  span.style.left = `${(100 * m.start) / length}%`;
  span.style.width = `${Math.max(0.5, (100 * (m.end - m.start)) / length)}%`;
}

// The video's chapters as marks on the timeline and as a list, and its summary; a click seeks.
async function showChapters(videoId) {
  const list = $("#chapter-list"), timeline = $("#timeline"), summary = $("#summary-lines");
  list.replaceChildren();
  summary.replaceChildren();
  timeline.querySelectorAll(".chapter-mark").forEach((mark) => mark.remove());
  $("#summary-box").hidden = true;
  try {
    const [chapters, digest] = await Promise.all([api(`/api/videos/${videoId}/chapters`),
                                                 api(`/api/videos/${videoId}/summary`)]);
    if (state.videoId !== videoId) return;  // another video was opened meanwhile
    const length = chapters.chapters.at(-1)?.end || state.duration || 1;  // chapters tile the video
    for (const chapter of chapters.chapters) {
      const item = document.createElement("li"), button = document.createElement("button");
      button.type = "button";
      button.dataset.start = chapter.start;
      button.textContent = `${fmtTime(chapter.start)} ${chapter.title}`;
      button.addEventListener("click", () => seek(chapter.start));
      item.appendChild(button);
      list.appendChild(item);
      if (chapter.start > 0) {
        const mark = document.createElement("button");
        mark.type = "button";
        mark.className = "chapter-mark";
        mark.title = chapter.title;
        mark.style.left = `${(100 * chapter.start) / length}%`;
        mark.addEventListener("click", () => seek(chapter.start));
        timeline.appendChild(mark);
      }
    }
    for (const line of digest.summary) {
      const item = document.createElement("li"), button = document.createElement("button");
      button.type = "button";
      button.textContent = `${fmtTime(line.start)} ${line.text}`;
      button.addEventListener("click", () => seek(line.start));
      item.appendChild(button);
      summary.appendChild(item);
    }
    $("#summary-box").hidden = !digest.summary.length;
  } catch (err) { setStatus(`chapters: ${err.message}`, true); }
}

function followTranscript() {
  const now = $("#player").currentTime;
  const starts = [...document.querySelectorAll("#chapter-list button")];
  starts.forEach((button, n) => button.classList.toggle("now", now >= Number(button.dataset.start) &&
    (n + 1 === starts.length || now < Number(starts[n + 1].dataset.start))));
  for (const button of document.querySelectorAll("#transcript-lines button")) {
    const current = now >= Number(button.dataset.start) && now < Number(button.dataset.end);
    if (current && !button.classList.contains("now")) button.scrollIntoView({ block: "nearest" });
    button.classList.toggle("now", current);
  }
}

// The form as query parameters (only what is set), and back.
function formParams() {
  const params = new URLSearchParams({ q: $("#q").value.trim(), mode: $("#mode").value });
  for (const [name, sel] of FILTERS) if ($(sel).value) params.set(name, $(sel).value);
  for (const tag of state.tags) params.append("tag", tag);
  if ($("#f-per-video").checked) params.set("per_video", "true");
  if (state.person) params.set("person", state.person.id);
  if (state.k !== PAGE) params.set("k", state.k);
  return params;
}

function applyParams(params) {
  $("#q").value = params.get("q") || "";
  if (params.get("mode")) $("#mode").value = params.get("mode");
  for (const [name, sel] of FILTERS) $(sel).value = params.get(name) || "";
  $("#f-per-video").checked = params.get("per_video") === "true";
  state.tags = new Set(params.getAll("tag"));
  const person = parseInt(params.get("person"), 10);
  setPerson(person ? { id: person, label: state.person?.id === person ? state.person.label : `person ${person}` } : null);
  state.k = Math.min(100, Math.max(1, parseInt(params.get("k"), 10) || PAGE));
  markChips();
  if (FILTERS.some(([name]) => params.get(name)) || state.tags.size || params.get("per_video")) $("#filters").open = true;
}

async function search(event, push = true) {
  event?.preventDefault();
  const params = formParams();
  if (!params.get("q")) return;
  if (push && location.search !== `?${params}`) history.pushState(null, "", `?${params}`);
  state.query = params;
  state.shown = 0;
  setStatus("searching…");
  await nextPage(false);
}

// A page of moments after those shown (the server never repeats a moment across pages).
async function nextPage(append = true) {
  const params = new URLSearchParams(state.query);
  params.set("k", state.k);
  params.set("offset", state.shown);
  try {
    const answer = await api(`/api/search?${params}`);
    render(answer, `“${state.query.get("q")}”`, append);
    state.shown += answer.moments.length;
    $("#more-results").hidden = answer.moments.length < state.k;
  } catch (err) { setStatus(err.message, true); }
}

async function moreLike(m) {
  setStatus("finding similar moments…");
  $("#more-results").hidden = true;
  try {
    render(await api(`/api/segments/${m.segment_id}/similar?mode=${$("#mode").value}&k=24`),
           `moments like ${m.video_name} ${fmtTime(m.start)}`);
  } catch (err) { setStatus(err.message, true); }
}

function markChips() {
  for (const chip of document.querySelectorAll("#tag-chips button")) {
    chip.setAttribute("aria-pressed", String(state.tags.has(chip.dataset.tag)));
  }
}

async function loadTags() {
  try {
    const box = $("#tag-chips");
    box.replaceChildren();
    for (const { tag, videos } of await api("/api/tags")) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.dataset.tag = tag;
      chip.textContent = `${tag} (${videos})`;
      chip.addEventListener("click", () => {
        if (state.tags.has(tag)) state.tags.delete(tag); else state.tags.add(tag);
        markChips();
        search();
      });
      box.appendChild(chip);
    }
    markChips();
  } catch (_) {}  // a key prompt is already shown when the server needs one
}

// "/" focuses the search box; arrows move between results (from the box, down enters them).
function onKey(event) {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName);
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("#q").focus();
    $("#q").select();
    return;
  }
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  const plays = [...document.querySelectorAll("#results .result .play")];
  if (!step || !plays.length || (typing && !(document.activeElement.id === "q" && event.key === "ArrowDown"))) return;
  const at = plays.indexOf(document.activeElement);
  event.preventDefault();
  plays[at < 0 ? 0 : Math.min(plays.length - 1, Math.max(0, at + step))].focus();
}

async function similarFile(file) {
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  setStatus(`uploading ${file.name} and finding similar moments…`);
  try {
    $("#more-results").hidden = true;
    render(await api(`/api/similar?mode=${$("#mode").value}&k=24`, { method: "POST", body: form }),
           `moments like ${file.name}`);
  } catch (err) { setStatus(err.message, true); }
}

async function refreshJobs() {
  try {
    const jobs = await api("/api/jobs");
    const body = $("#jobs tbody");
    body.replaceChildren();
    for (const job of jobs) {
      const row = document.createElement("tr");
      const errors = job.errors.map((e) => `${e.path} [${e.stage}]: ${e.reason}`).join("\n") || job.error || "";
      let progress = `${job.done}/${job.total} (${Math.round(job.progress * 100)}%)`;
      if (job.video_hours_per_hour !== null) progress += `, ${job.video_hours_per_hour} video-h/h`;
      if (job.eta_seconds !== null) progress += `, about ${Math.ceil(job.eta_seconds / 60)} min left`;
      for (const text of [`#${job.id}`, job.state, progress, job.paths.join(", "), errors]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        cell.style.whiteSpace = "pre-wrap";
        row.appendChild(cell);
      }
      body.appendChild(row);
    }
    if (!jobs.some((j) => j.state === "queued" || j.state === "running")) {
      clearInterval(state.pollJobs);
      state.pollJobs = null;
    }
  } catch (err) { setStatus(err.message, true); }
}

function watchJobs() {
  refreshJobs();
  if (!state.pollJobs) state.pollJobs = setInterval(refreshJobs, 1500);
}

async function startIndex(event) {
  event.preventDefault();
  const paths = $("#index-paths").value.split(",").map((p) => p.trim()).filter(Boolean);
  try {
    const job = await api("/api/index", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ paths, force: $("#index-force").checked }),
    });
    setStatus(`indexing job #${job.id} queued`);
    watchJobs();
  } catch (err) { setStatus(err.message, true); }
}

async function useKey(event) {
  event.preventDefault();
  try {
    await api("/api/session", { method: "POST", headers: { "X-API-Key": $("#key").value } });
    $("#key-box").hidden = true;
    $("#key").value = "";
    setStatus("key accepted");
    loadTags();  // what the refused calls would have shown
    if (new URLSearchParams(location.search).get("q")) search(null, false);
  } catch (err) { setStatus(err.message, true); }
}

function setupDrop() {
  const drop = $("#drop");
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.remove("over"); });
  }
  drop.addEventListener("drop", (e) => similarFile(e.dataTransfer.files[0]));
  $("#file").addEventListener("change", (e) => similarFile(e.target.files[0]));
}
// The library: indexed and failed videos a page at a time, in the order chosen; tags edited in
// place (Enter or leaving the field saves them); a video removed after a confirmation.
function cell(row, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content); else td.textContent = content ?? "";
  row.appendChild(td);
  return td;
}

async function loadLibrary() {
  const size = Number($("#lib-size").value);
  const params = new URLSearchParams({ limit: size, offset: state.libOffset, sort: $("#lib-sort").value });
  if ($("#lib-status").value) params.set("status", $("#lib-status").value);
  try {
    const page = await api(`/api/videos?${params}`);
    const body = $("#library tbody");
    body.replaceChildren();
    for (const v of page.videos) {
      const row = document.createElement("tr");
      row.dataset.video = v.id;
      const still = document.createElement("img");
      still.alt = "";
      still.loading = "lazy";
      if (v.status === "indexed") still.src = `/api/videos/${v.id}/frame?at=${Math.min(v.duration / 3, 60).toFixed(1)}`;
      else still.hidden = true;  // nothing to show of a file that could not be read
      cell(row, still);
      const name = document.createElement(v.status === "indexed" ? "button" : "span");
      name.textContent = v.name;
      name.title = v.path;
      if (v.status === "indexed") {
        name.type = "button";
        name.addEventListener("click", () => play({ video_id: v.id, video_name: v.name, start: 0, end: v.duration,
                                                    playback_url: v.stream_url }));
      }
      cell(row, name);
      cell(row, fmtTime(v.duration));
      cell(row, v.recorded_at ? v.recorded_at.slice(0, 10) : "");
      const tags = document.createElement("input");
      tags.className = "tags";
      tags.value = v.tags.join(", ");
      tags.setAttribute("aria-label", `tags of ${v.name}, separated by commas`);
      tags.addEventListener("change", () => saveTags(v, tags));
      cell(row, tags);
      cell(row, v.language);
      cell(row, String(v.segments));
      const stateCell = cell(row, v.status === "failed" ? `failed at ${v.error_stage}: ${v.error}` : v.status);
      stateCell.classList.toggle("failed", v.status === "failed");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "Remove";
      remove.addEventListener("click", () => removeVideo(v));
      cell(row, remove);
      body.appendChild(row);
    }
    const last = state.libOffset + page.videos.length;
    $("#lib-range").textContent = page.total ? `${state.libOffset + 1}–${last} of ${page.total}` : "none";
    $("#lib-prev").disabled = state.libOffset === 0;
    $("#lib-next").disabled = last >= page.total;
  } catch (err) { setStatus(err.message, true); }
}

async function saveTags(video, input) {
  const tags = input.value.split(",").map((t) => t.trim()).filter(Boolean);
  try {
    const saved = await api(`/api/videos/${video.id}/tags`, {
      method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tags }) });
    input.value = saved.join(", ");
    setStatus(`tags of ${video.name}: ${saved.join(", ") || "none"}`);
    loadTags();
  } catch (err) { setStatus(err.message, true); }
}

async function removeVideo(video) {
  if (!confirm(`Remove ${video.name} from the index? The file itself stays where it is.`)) return;
  try {
    await api(`/api/videos/${video.id}`, { method: "DELETE" });
    setStatus(`${video.name} removed from the index`);
    await loadLibrary();
    loadTags();
  } catch (err) { setStatus(err.message, true); }
}

// One copy as a still that plays it from ``at`` when clicked; ``why``: what it was grouped by.
function copyTile(video, at, label, why = "") {
  const tile = document.createElement("button");
  tile.type = "button";
  tile.className = "copy";
  const img = document.createElement("img");
  img.alt = "";
  img.loading = "lazy";
  img.src = `/api/videos/${video.video_id}/frame?at=${at.toFixed(1)}`;
  const caption = document.createElement("span");
  caption.textContent = `${video.video_path.split("/").pop()} ${label}`;
  caption.title = video.video_path;
  tile.append(img, caption);
  if (why) {
    const reason = document.createElement("small");
    reason.className = "why";
    reason.textContent = why;
    tile.append(reason);
  }
  tile.addEventListener("click", () => play({
    video_id: video.video_id, video_name: video.video_path.split("/").pop(), start: at,
    playback_url: `/api/videos/${video.video_id}/stream#t=${at.toFixed(1)}` }));
  return tile;
}

// What found a copy: "pictures", "sound" or "pictures and sound".
const WITNESS = { picture: "pictures", sound: "sound", "picture and sound": "pictures and sound" };

// "same pictures as the master: 0:00-0:20 = 0:00-0:20 (100% of it)", from a copy's ``why``.
function groupedBecause(why, members) {
  const other = why.other === members[0].video_id ? "the master"
    : members.find((m) => m.video_id === why.other).video_path.split("/").pop();
  const spans = why.spans.slice(0, 2).map((s) => `${fmtTime(s.start)}-${fmtTime(s.end)} = ` +
                                               `${fmtTime(s.other_start)}-${fmtTime(s.other_end)}`).join(", ");
  return `same ${WITNESS[why.witness]} as ${other}: ${spans}${why.spans.length > 2 ? " …" : ""} ` +
         `(${Math.round(why.covered * 100)}% of it)`;
}

async function showCopies() {
  const box = $("#copies-box");
  box.hidden = !box.hidden;
  if (box.hidden) return;
  setStatus("comparing the archive…");
  try {
    const found = await api("/api/duplicates");
    const groups = $("#copy-groups"), spans = $("#copy-spans");
    groups.replaceChildren();
    spans.replaceChildren();
    for (const group of found.groups) {
      const row = document.createElement("div");
      row.className = "copy-row";
      const members = [group.master, ...group.copies];
      for (const [n, video] of members.entries()) {
        const at = Math.min(video.duration / 3, 60);
        row.appendChild(copyTile(video, at, n === 0 ? "(master)" : video.change ? `(${video.change})` : "",
                                 n === 0 ? "" : groupedBecause(video.why, members)));
      }
      groups.appendChild(row);
    }
    for (const span of found.spans) {
      const row = document.createElement("div");
      row.className = "copy-row";
      row.append(copyTile(span, span.start, `${fmtTime(span.start)}-${fmtTime(span.end)}`),
                 copyTile(span.other, span.other_start, `${fmtTime(span.other_start)}-${fmtTime(span.other_end)}` +
                          (span.change ? ` (${span.change})` : ""), `same ${WITNESS[span.witness]}`));
      spans.appendChild(row);
    }
    const missing = found.without_descriptors.length;
    setStatus(`${found.groups.length} duplicate group(s), ${found.spans.length} copied span(s) among ` +
              `${found.videos} videos` + (missing ? `; ${missing} without descriptors (vidsearch index --only copies)` : ""));
  } catch (err) {
    setStatus(`copies: ${err.message}`, true);
  }
}

// The person searches are narrowed to (a chip among the filters), or none.
function setPerson(person) {
  state.person = person;
  const chip = $("#person-chip");
  chip.hidden = !person;
  chip.textContent = person ? `seen: ${person.label} ×` : "";
  if (person) $("#filters").open = true;
}

async function showPeople() {
  const box = $("#people-box");
  box.hidden = !box.hidden;
  if (!box.hidden) await loadPeople();
}

async function loadPeople() {
  const grid = $("#people-grid");
  try {
    const people = await api("/api/people");
    grid.replaceChildren();
    for (const person of people) grid.appendChild(personTile(person));
    $("#merge-people").disabled = true;
    setStatus(people.length ? `${people.length} ${people.length === 1 ? "person" : "people"}`
                            : "no faces found yet (indexing looks for them)");
  } catch (err) { setStatus(`people: ${err.message}`, true); }
}

function personTile(person) {
  const tile = document.createElement("div");
  tile.className = "person";
  tile.dataset.person = person.id;
  const img = document.createElement("img");
  img.alt = person.label;
  if (person.still_url) img.src = person.still_url;
  const label = document.createElement("span");
  label.className = "label";
  label.textContent = person.label;
  const counts = document.createElement("span");
  counts.textContent = `${person.appearances} appearance(s), ${person.videos} video(s)`;
  const pick = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "pick-person";
  box.addEventListener("change", () => {
    $("#merge-people").disabled = document.querySelectorAll(".pick-person:checked").length < 2;
  });
  pick.append(box, " select");
  const actions = document.createElement("div");
  actions.className = "actions";
  const button = (text, cls, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.addEventListener("click", onClick);
    actions.appendChild(b);
  };
  button("Moments", "moments", async () => {
    try { render(await api(`/api/people/${person.id}/moments`), person.label); } catch (err) { setStatus(err.message, true); }
  });
  button("Search with", "with", () => {
    setPerson({ id: person.id, label: person.label });
    if ($("#q").value.trim()) search();
  });
  button("Rename", "rename", async () => {
    const name = prompt(`A name for ${person.label}`, person.name || "");
    if (!name || !name.trim()) return;
    try {
      await api(`/api/people/${person.id}/name`, { method: "PUT", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify({ name: name.trim() }) });
      await loadPeople();
    } catch (err) { setStatus(err.message, true); }
  });
  button("Forget", "forget", async () => {
    if (!confirm(`Forget ${person.label}? Their face descriptors and stills are deleted.`)) return;
    try {
      await api(`/api/people/${person.id}`, { method: "DELETE" });
      if (state.person?.id === person.id) setPerson(null);
      await loadPeople();
    } catch (err) { setStatus(err.message, true); }
  });
  tile.append(img, label, counts, pick, actions);
  return tile;
}

async function mergePeople() {
  const ids = [...document.querySelectorAll(".pick-person:checked")].map((b) => b.closest(".person").dataset.person);
  try {
    for (const other of ids.slice(1)) {
      await api(`/api/people/${ids[0]}/merge`, { method: "POST", headers: { "Content-Type": "application/json" },
                                                 body: JSON.stringify({ other: Number(other) }) });
    }
    await loadPeople();
  } catch (err) { setStatus(err.message, true); }
}

async function findFace(file) {
  if (!file) return;
  const form = new FormData();
  form.append("file", file, file.name);
  setStatus(`looking for ${file.name}'s face…`);
  $("#more-results").hidden = true;
  try {
    render(await api("/api/similar/face?k=50", { method: "POST", body: form }), `the face in ${file.name}`);
  } catch (err) { setStatus(err.message, true); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#search-form").addEventListener("submit", search);
  $("#more-results").addEventListener("click", () => nextPage(true));
  $("#key-form").addEventListener("submit", useKey);
  $("#index-form").addEventListener("submit", startIndex);
  $("#show-jobs").addEventListener("click", () => { $("#jobs-box").hidden = !$("#jobs-box").hidden; watchJobs(); });
  $("#show-copies").addEventListener("click", showCopies);
  $("#show-people").addEventListener("click", showPeople);
  $("#merge-people").addEventListener("click", mergePeople);
  $("#face-file").addEventListener("change", (event) => findFace(event.target.files[0]));
  $("#person-chip").addEventListener("click", () => { setPerson(null); if ($("#q").value.trim()) search(); });
  $("#show-library").addEventListener("click", () => {
    $("#library-box").hidden = !$("#library-box").hidden;
    if (!$("#library-box").hidden) loadLibrary();
  });
  for (const sel of ["#lib-status", "#lib-sort", "#lib-size"]) {
    $(sel).addEventListener("change", () => { state.libOffset = 0; loadLibrary(); });
  }
  $("#lib-prev").addEventListener("click", () => {
    state.libOffset = Math.max(0, state.libOffset - Number($("#lib-size").value));
    loadLibrary();
  });
  $("#lib-next").addEventListener("click", () => { state.libOffset += Number($("#lib-size").value); loadLibrary(); });
  $("#close-player").addEventListener("click", () => { $("#player").pause(); $("#player-box").hidden = true; });
  $("#player").addEventListener("timeupdate", followTranscript);
  $("#like-moment").addEventListener("click", () => state.moment && moreLike(state.moment));
  document.addEventListener("keydown", onKey);
  window.addEventListener("popstate", () => {
    const params = new URLSearchParams(location.search);
    applyParams(params);
    if (params.get("q")) search(null, false);
    else { $("#results").replaceChildren(); $("#more-results").hidden = true; setStatus(""); }
  });
  setupDrop();
  const params = new URLSearchParams(location.search);
  applyParams(params);
  loadTags();
  if (params.get("q")) search(null, false);
});
