// spreed-bot operator console: plain ES module, no framework, no build step.
// Every value from the server goes into the DOM as text (never as HTML).

const main = document.getElementById('main');
const conn = document.getElementById('conn');
let session = { auth: 'loopback', loggedIn: true, live: false };
let leaveView = () => {};

// ------------------------------------------------------------------ helpers

/** Creates an element: h('td', { class: 'num' }, 'text', child, …). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && k !== 'list' && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function bytes(n) {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

function bitrate(bps) {
  if (!bps) return '0 kbit/s';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${(bps / 1e3).toFixed(0)} kbit/s`;
}

function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const t = Math.round(ms / 1000);
  const hh = Math.floor(t / 3600);
  const mm = Math.floor(t / 60) % 60;
  const ss = String(t % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

function when(ms) {
  return ms ? new Date(ms).toLocaleString() : '–';
}

function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? ''}` }, text);
}

async function api(path, options = {}) {
  const init = { credentials: 'same-origin', ...options, headers: { ...(options.headers ?? {}) } };
  if (init.method && init.method !== 'GET') {
    init.headers['x-spreed-console'] = '1';
    if (init.body !== undefined) init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (res.status === 401 && path !== 'api/login') {
    showLogin();
    throw new Error('login required');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function setView(nodes) {
  main.replaceChildren(...[nodes].flat(Infinity).filter((n) => n !== undefined && n !== null && n !== false));
}

// ------------------------------------------------------------------ login

function showLogin(message) {
  leaveView();
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', placeholder: 'console token', required: true });
  const error = h('p', { class: 'error' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api('api/login', { method: 'POST', body: JSON.stringify({ token: input.value }) });
          session = await api('api/session');
          route();
        } catch (e) {
          error.textContent = e.message;
        }
      },
    },
    h('h2', {}, 'Log in'),
    h('p', { class: 'muted' }, 'This console is protected by a token (SPREED_CONSOLE_TOKEN on the server).'),
    input,
    h('button', { class: 'primary', type: 'submit' }, 'Log in'),
    error,
  );
  setView(form);
  input.focus();
}

// ------------------------------------------------------------------ live view

function connectionBadge(c) {
  if (c.status === 'joined') return badge('joined', 'ok');
  if (c.status === 'connected') return badge('connected', 'ok');
  if (c.status === 'reconnecting') {
    const next = c.nextRetryAt ? Math.max(0, Math.round((c.nextRetryAt - Date.now()) / 1000)) : undefined;
    return badge(`reconnecting, attempt ${c.attempt ?? '?'}${next !== undefined ? `, next try in ${next} s` : ''}`, 'warn');
  }
  if (c.status === 'closed') return badge(`closed${c.reason ? `: ${c.reason}` : ''}`, 'bad');
  return badge(c.status, 'warn');
}

function streamsTable(streams) {
  if (streams.length === 0) return h('p', { class: 'muted' }, 'No streams.');
  return h(
    'table',
    { class: 'streams' },
    h('thead', {}, h('tr', {}, h('th', {}, 'participant'), h('th', {}, 'stream'), h('th', {}, 'resolution'), h('th', { class: 'num' }, 'bitrate'), h('th', { class: 'num' }, 'packets'), h('th', { class: 'num' }, 'lost'))),
    h(
      'tbody',
      {},
      streams.map((st) =>
        h(
          'tr',
          { 'data-stream': `${st.name}/${st.kind}`, 'data-bitrate': st.bitrate },
          h('td', {}, h('span', { class: `talk${st.talking ? ' on' : ''}`, title: st.talking ? 'speaking' : 'silent', 'data-talking': st.talking }), st.name),
          h('td', {}, `${st.kind} ${st.codec}`),
          h('td', {}, st.resolution ?? '–'),
          h('td', { class: 'num' }, bitrate(st.bitrate)),
          h('td', { class: 'num' }, st.packetsReceived),
          h('td', { class: 'num' }, st.packetsLost),
        ),
      ),
    ),
  );
}

async function action(button, path, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  button.disabled = true;
  try {
    await api(path, { method: 'POST' });
  } catch (e) {
    window.alert(e.message);
  } finally {
    button.disabled = false;
  }
}

function botCard(bot, now) {
  const uptime = bot.startedAt ? duration(now - bot.startedAt) : '–';
  const rec = bot.recording;
  const running = bot.state === 'running';
  return h(
    'section',
    { class: 'card bot', 'data-bot': bot.name, 'data-state': bot.state, 'data-recording': rec ? rec.status : 'idle' },
    h('h3', { class: 'row' }, bot.name, connectionBadge(bot.connection), bot.state !== 'running' ? badge(bot.state, bot.state === 'failed' ? 'bad' : 'warn') : null, rec ? badge(rec.status, 'rec') : null),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'room'), h('dd', {}, bot.room || '(default room)'),
      h('dt', {}, 'server'), h('dd', {}, bot.server),
      h('dt', {}, 'uptime'), h('dd', {}, uptime),
      h('dt', {}, 'plugins'), h('dd', {}, bot.plugins.join(', ') || '–'),
      h('dt', {}, 'in the room'),
      h('dd', { class: 'users' }, bot.users.length ? bot.users.map((u) => h('span', { class: 'user', 'data-user': u.name }, h('span', { class: `talk${u.talking ? ' on' : ''}` }), u.name, ' ')) : '–'),
      bot.error ? [h('dt', {}, 'error'), h('dd', { class: 'error' }, bot.error)] : null,
    ),
    h('h3', {}, `Calls (${bot.calls.length})`),
    bot.calls.length
      ? h('table', {}, h('tbody', {}, bot.calls.map((c) => h('tr', { 'data-call': c.name }, h('td', {}, c.name), h('td', {}, c.status), h('td', {}, c.direction), h('td', {}, c.conference ? 'conference' : '1:1'), h('td', { class: 'num' }, `${c.tracks} track(s)`)))))
      : h('p', { class: 'muted' }, 'No calls.'),
    rec
      ? [
          h('h3', {}, 'Recording'),
          h('dl', { class: 'kv' }, h('dt', {}, 'folder'), h('dd', {}, rec.dir), h('dt', {}, 'duration'), h('dd', { 'data-duration': rec.durationMs ?? 0 }, duration(rec.durationMs)), h('dt', {}, 'written'), h('dd', {}, bytes(rec.bytesWritten))),
        ]
      : null,
    bot.streams.length || rec ? [h('h3', {}, 'Streams'), streamsTable(bot.streams)] : null,
    bot.transfers.length
      ? [
          h('h3', {}, 'File transfers'),
          h('table', {}, h('tbody', {}, bot.transfers.map((t) => h('tr', { 'data-transfer': t.name }, h('td', {}, t.name), h('td', {}, `from ${t.from}`), h('td', {}, h('progress', { max: 1, value: t.fraction })), h('td', { class: 'num' }, `${bytes(t.bytes)} / ${bytes(t.size)}`), h('td', {}, t.state === 'failed' ? h('span', { class: 'error' }, t.error) : t.state === 'done' ? 'done' : `${bytes(t.rate)}/s`))))),
        ]
      : null,
    h(
      'div',
      { class: 'row actions' },
      rec && rec.status === 'recording' ? h('button', { class: 'danger', 'data-action': 'stop-recording', onclick: (e) => action(e.currentTarget, `api/bots/${encodeURIComponent(bot.id)}/stop-recording`, `Stop ${bot.name}'s recording? Files are finalised.`) }, 'Stop recording') : null,
      running ? h('button', { class: 'danger', 'data-action': 'stop-bot', onclick: (e) => action(e.currentTarget, `api/bots/${encodeURIComponent(bot.id)}/stop`, `Stop the bot ${bot.name}? It leaves the room.`) }, 'Stop bot') : null,
    ),
  );
}

function liveView() {
  const container = h('div', { class: 'cards' }, h('p', { class: 'muted' }, 'Waiting for the first update…'));
  setView([h('h2', {}, 'Bots'), container]);
  // A click must not be lost to a re-render between pointer down and up.
  let pressed = false;
  let pending;
  const render = (snapshot) => {
    const now = Date.now();
    container.replaceChildren(...(snapshot.bots.length ? snapshot.bots.map((b) => botCard(b, now)) : [h('p', { class: 'muted' }, 'No bots.')]));
  };
  container.addEventListener('pointerdown', () => (pressed = true));
  window.addEventListener('pointerup', () => {
    pressed = false;
    if (pending) render(pending), (pending = undefined);
  });
  const events = new EventSource('api/live/events');
  events.addEventListener('snapshot', (e) => {
    const snapshot = JSON.parse(e.data);
    conn.textContent = `live · ${new Date(snapshot.at).toLocaleTimeString()}`;
    if (pressed) pending = snapshot;
    else render(snapshot);
  });
  events.onerror = () => (conn.textContent = 'live · reconnecting…');
  leaveView = () => {
    events.close();
    conn.textContent = '';
  };
}

// ------------------------------------------------------------------ meetings list

function stateBadge(m) {
  const kind = { recording: 'rec', finished: 'ok', unfinished: 'warn', unreadable: 'bad' }[m.state];
  return badge(m.state, kind);
}

async function meetingsView(page) {
  const data = await api(`api/meetings?page=${page}`);
  const pages = Math.max(1, Math.ceil(data.total / data.pageSize));
  const link = (m) => `#/meeting/${m.id.split('/').map(encodeURIComponent).join('/')}`;
  setView([
    h('h2', {}, `Meetings (${data.total})`),
    data.meetings.length === 0
      ? h('p', { class: 'muted' }, 'No recordings yet.')
      : h(
          'table',
          { class: 'meetings' },
          h('thead', {}, h('tr', {}, h('th', {}, 'room'), h('th', {}, 'start'), h('th', { class: 'num' }, 'duration'), h('th', {}, 'participants'), h('th', { class: 'num' }, 'size'), h('th', {}, 'state'))),
          h(
            'tbody',
            {},
            data.meetings.map((m) =>
              h(
                'tr',
                { 'data-meeting': m.id },
                h('td', {}, h('a', { href: link(m) }, m.room)),
                h('td', {}, when(m.startedAt)),
                h('td', { class: 'num' }, duration(m.durationMs)),
                h('td', {}, m.participants.join(', ') || '–'),
                h('td', { class: 'num' }, bytes(m.sizeBytes)),
                h(
                  'td',
                  {},
                  stateBadge(m),
                  m.mix ? [' ', badge('mixed')] : null,
                  m.error ? h('div', { class: 'error' }, m.error) : null,
                  m.failures.map((f) => h('div', { class: 'error', 'data-failure': f.file }, `${f.participant} (${f.file}): ${f.error}`)),
                ),
              ),
            ),
          ),
        ),
    h(
      'div',
      { class: 'pager' },
      page > 1 ? h('a', { href: `#/meetings?page=${page - 1}` }, '← newer') : null,
      h('span', { class: 'muted' }, `page ${data.page} of ${pages}`),
      page < pages ? h('a', { href: `#/meetings?page=${page + 1}` }, 'older →') : null,
    ),
  ]);
}

// ------------------------------------------------------------------ meeting page

function niceStep(totalMs) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].map((x) => x * 1000);
  return steps.find((st) => totalMs / st <= 12) ?? 7200_000;
}

function timelineSvg(t) {
  const labelW = 130;
  const width = 1000;
  const laneH = 34;
  const top = 22;
  const height = top + Math.max(1, t.lanes.length) * laneH + 6;
  const total = Math.max(1, t.durationMs);
  const x = (ms) => labelW + ((width - labelW - 10) * ms) / total;
  const w = (span) => Math.max(1.5, x(span.to) - x(span.from));
  const step = niceStep(total);
  const ticks = [];
  for (let ms = 0; ms <= total; ms += step) ticks.push(ms);
  const svg = s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'speaker timeline' },
    s('g', { class: 'axis' }, ticks.map((ms) => [s('line', { class: 'grid', x1: x(ms), x2: x(ms), y1: top - 4, y2: height }), s('text', { x: x(ms) + 2, y: 12 }, duration(ms))])),
    t.gaps.map((g) => s('rect', { class: 'gap', x: x(g.from), y: top - 4, width: w(g), height: height - top + 4 }, s('title', {}, `not recorded: ${g.reason}`))),
    t.lanes.map((lane, i) => {
      const y = top + i * laneH;
      return s(
        'g',
        { class: 'lane', 'data-lane': lane.name },
        s('text', { x: 4, y: y + 20 }, lane.name.length > 18 ? `${lane.name.slice(0, 17)}…` : lane.name),
        lane.presence.map((p) => s('rect', { class: 'presence', x: x(p.from), y: y + 4, width: w(p), height: laneH - 8, rx: 3 }, s('title', {}, `${lane.name} in the meeting ${duration(p.from)}–${duration(p.to)}`))),
        lane.segments.map((seg) => s('rect', { class: `segment ${seg.state}`, x: x(seg.from), y: y + 8, width: w(seg), height: 6, rx: 2 }, s('title', {}, `${seg.file} (${seg.state}) ${duration(seg.from)}–${duration(seg.to)}`))),
        lane.speech.map((sp) => s('rect', { class: 'speech', x: x(sp.from), y: y + 17, width: w(sp), height: 10, rx: 2 }, s('title', {}, `${lane.name} speaks ${duration(sp.from)}–${duration(sp.to)}`))),
      );
    }),
  );
  return h(
    'div',
    { class: 'timeline' },
    svg,
    h(
      'div',
      { class: 'legend muted' },
      h('span', {}, h('i', { class: 'lg-presence' }), 'in the meeting'),
      h('span', {}, h('i', { class: 'lg-segment' }), 'recorded file'),
      h('span', {}, h('i', { class: 'lg-speech' }), 'speaking'),
    ),
  );
}

function playerFor(f) {
  const videoKinds = f.kinds.includes('video');
  // #t=0.5: Chromium then shows a frame instead of a black box before playing.
  const media = h(videoKinds ? 'video' : 'audio', { controls: true, preload: 'metadata', src: videoKinds ? `${f.url}#t=0.5` : f.url, 'data-file': f.file });
  return h(
    'div',
    { class: 'card player', 'data-player': f.name },
    h('h3', { class: 'row' }, f.name, f.segment > 1 ? badge(`segment ${f.segment}`) : null, f.state !== 'finished' ? badge(f.state, f.state === 'failed' ? 'bad' : 'warn') : null),
    /\.(webm|ogg)$/i.test(f.file) ? media : h('p', { class: 'muted' }, 'This container does not play in the browser; download it.'),
    h('p', { class: 'row muted' }, `${f.codecs.join(' + ')} · ${bytes(f.sizeBytes)}`, h('a', { href: `${f.url}?download`, download: f.file }, 'download')),
    f.error ? h('p', { class: 'error' }, f.error) : null,
  );
}

function mixSection(m, parts) {
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'data-mix-progress': true });
  const note = h('span', { class: 'muted', 'data-mix-state': m.mixState.status }, '');
  const button = h('button', { class: 'primary', 'data-action': 'mix' }, m.mixFile ? 'Mix down again' : 'Mix down');
  let events;
  const watch = () => {
    events?.close();
    events = new EventSource(`api/meetings/${parts}/mix/events`);
    events.addEventListener('mix', (e) => {
      const st = JSON.parse(e.data);
      note.dataset.mixState = st.status;
      if (st.status === 'running') {
        button.disabled = true;
        progress.hidden = false;
        progress.value = st.fraction;
        note.textContent = `mixing… ${Math.round(st.fraction * 100)} %`;
      } else if (st.status === 'done') {
        events.close();
        note.textContent = 'mixed';
        route();
      } else if (st.status === 'failed') {
        events.close();
        button.disabled = false;
        progress.hidden = true;
        note.textContent = '';
        note.append(h('span', { class: 'error' }, `mix-down failed: ${st.error}`));
      }
    });
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api(`api/meetings/${parts}/mix`, { method: 'POST' });
      watch();
    } catch (e) {
      button.disabled = false;
      note.textContent = e.message;
    }
  });
  if (m.mixState.status === 'running') watch();
  const player = m.mixFile
    ? h(
        'div',
        { class: 'mix' },
        h(
          m.mixFile.file.endsWith('.ogg') ? 'audio' : 'video',
          { id: 'mix', controls: true, preload: 'metadata', src: m.mixFile.url, 'data-file': m.mixFile.file },
          m.mixFile.captionsUrl ? h('track', { kind: 'captions', src: m.mixFile.captionsUrl, srclang: 'en', label: 'Speakers', default: true }) : null,
        ),
        h('p', { class: 'row muted' }, `${m.mixFile.file} · ${bytes(m.mixFile.sizeBytes)}`, h('a', { href: `${m.mixFile.url}?download`, download: m.mixFile.file }, 'download'), m.mixFile.captionsUrl ? h('a', { href: `${m.mixFile.captionsUrl}?download`, download: 'speakers.vtt' }, 'speakers.vtt') : null),
      )
    : h('p', { class: 'muted' }, 'No mix-down yet: one file with everyone, aligned by the timeline, with captions naming who speaks.');
  return [h('h3', {}, 'Mix-down'), player, h('div', { class: 'row' }, button, progress, note)];
}

async function meetingView(room, start) {
  const parts = `${encodeURIComponent(room)}/${encodeURIComponent(start)}`;
  const m = await api(`api/meetings/${parts}`);
  setView([
    h('p', {}, h('a', { href: '#/meetings' }, '← meetings')),
    h('h2', { class: 'row' }, m.room, stateBadge(m)),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'start'), h('dd', {}, when(m.startedAt)),
      h('dt', {}, 'duration'), h('dd', {}, duration(m.durationMs)),
      h('dt', {}, 'participants'), h('dd', {}, m.participants.join(', ') || '–'),
      h('dt', {}, 'size'), h('dd', {}, bytes(m.sizeBytes)),
      h('dt', {}, 'folder'), h('dd', {}, m.id),
    ),
    m.error ? h('p', { class: 'error' }, m.error) : null,
    m.failures.map((f) => h('p', { class: 'error' }, `${f.participant} (${f.file}): ${f.error}`)),
    h('h3', {}, 'Speaker timeline'),
    timelineSvg(m.timeline),
    mixSection(m, parts),
    h('h3', {}, 'Participants'),
    h('div', { class: 'players' }, m.files.map(playerFor)),
  ]);
}

// ------------------------------------------------------------------ routing

async function route() {
  leaveView();
  leaveView = () => {};
  const hash = location.hash || (session.live ? '#/live' : '#/meetings');
  document.getElementById('nav-live').hidden = !session.live;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', hash.startsWith(a.getAttribute('href')));
  if (!session.loggedIn) return showLogin();
  try {
    const meeting = /^#\/meeting\/([^/]+)\/([^/?]+)/.exec(hash);
    if (meeting) return await meetingView(decodeURIComponent(meeting[1]), decodeURIComponent(meeting[2]));
    if (hash.startsWith('#/meetings')) return await meetingsView(Number(new URLSearchParams(hash.split('?')[1] ?? '').get('page') ?? 1) || 1);
    if (session.live) return liveView();
    return await meetingsView(1);
  } catch (e) {
    if (e.message !== 'login required') setView(h('p', { class: 'error' }, e.message));
  }
}

window.addEventListener('hashchange', route);
api('api/session')
  .then((s) => {
    session = s;
    route();
  })
  .catch((e) => setView(h('p', { class: 'error' }, `cannot reach the console: ${e.message}`)));
