// The web inspector: the page at / of `splinter serve` (docs/serve.md, "The inspector").
// Plain ES modules, preact + htm, no build step; store data is only ever put in text nodes.
import { Component, h, render } from '/assets/preact.mjs';
import htm from '/assets/htm.mjs';
import { followEvents, getJson, keySegment, NeedToken, setToken } from '/assets/api.js';
import { idOf, KeyModel, parseMask, shownKey } from '/assets/model.js';
import { ValueView } from '/assets/value.js';
import { addRate, Doctor, Header, Shards, Signals, Streams } from '/assets/views.js';

const html = htm.bind(h);
const ROW_HEIGHT = 28;
/** Rows drawn above and below the visible ones, so a fast scroll shows no gap. */
const OVERSCAN = 8;
const POLL_MS = 1000;
/** Redraws after changes at most this often: a burst of events is one render. */
const RENDER_MS = 50;

/** A windowed list: only the rows in view are in the document, whatever the number of keys. */
class KeyTable extends Component {
  constructor() {
    super();
    this.state = { scrollTop: 0, height: 480 };
    this.onScroll = (e) => this.setState({ scrollTop: e.currentTarget.scrollTop });
    this.onKey = (e) => this.key(e);
  }

  componentDidMount() {
    this.resize = new ResizeObserver(() => this.setState({ height: this.scroller.clientHeight }));
    this.resize.observe(this.scroller);
  }

  componentWillUnmount() {
    this.resize.disconnect();
  }

  /**
   * Moves the document's focus to the focused row when that changed, and only then (a redraw must
   * not pull focus back from elsewhere); a row not drawn yet (its scroll still to come) gets it
   * on the redraw that draws it.
   */
  componentDidUpdate(previous) {
    const { focus, focusRows } = this.props;
    if (focusRows && (previous.focus !== focus || !previous.focusRows)) this.focusOwed = true;
    if (!focusRows || !this.focusOwed) return;
    const el = this.scroller.querySelector(`[data-index="${focus}"]`);
    if (el === null) return;
    this.focusOwed = false;
    if (document.activeElement !== el) el.focus({ preventScroll: true });
  }

  /** Scrolls so row `index` is in view, then moves the focus there. */
  moveTo(index) {
    const { rows } = this.props;
    const i = Math.max(0, Math.min(rows.length - 1, index));
    const top = i * ROW_HEIGHT;
    const s = this.scroller;
    if (top < s.scrollTop) s.scrollTop = top;
    else if (top + ROW_HEIGHT > s.scrollTop + s.clientHeight) s.scrollTop = top + ROW_HEIGHT - s.clientHeight;
    this.props.onFocus(i);
  }

  key(e) {
    const { focus, rows, onOpen } = this.props;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const moves = { ArrowDown: focus + 1, ArrowUp: focus - 1, PageDown: focus + page, PageUp: focus - page, Home: 0, End: rows.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      this.moveTo(moves[e.key]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (rows[focus] !== undefined) onOpen(rows[focus]);
    }
  }

  render({ rows, focus, selected, onOpen, onFocus }, { scrollTop, height }) {
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    const visible = [];
    for (let i = first; i < last; i++) {
      const row = rows[i];
      const id = idOf(row);
      visible.push(html`<div
        key=${id}
        role="row"
        class=${`row${id === selected ? ' selected' : ''}${row.changed > 0 ? ' changed' : ''}`}
        data-index=${i}
        data-key=${row.key}
        tabindex=${i === focus ? 0 : -1}
        aria-rowindex=${i + 2}
        aria-selected=${id === selected ? 'true' : 'false'}
        style=${{ transform: `translateY(${i * ROW_HEIGHT}px)` }}
        onClick=${() => {
          onFocus(i);
          onOpen(row);
        }}
      >
        <span role="gridcell" class="k">${shownKey(row.key)}</span>
        <span role="gridcell" class="t">${row.type}</span>
        <span role="gridcell" class="n">${row.length}</span>
        <span role="gridcell" class="e">${row.epoch}</span>
        <span role="gridcell" class="l">${row.labels === 0n ? '' : `0x${row.labels.toString(16)}`}</span>
        <span role="gridcell" class="w">${row.changed > 0 ? new Date(row.changed).toLocaleTimeString() : ''}</span>
      </div>`);
    }
    return html`<div class="keytable" role="grid" aria-label="keys" aria-rowcount=${rows.length + 1}>
      <div role="row" class="row headrow" aria-rowindex="1">
        <span role="columnheader" class="k">key</span><span role="columnheader" class="t">type</span><span role="columnheader" class="n">bytes</span>
        <span role="columnheader" class="e">epoch</span><span role="columnheader" class="l">labels</span><span role="columnheader" class="w">changed</span>
      </div>
      <div class="scroller" ref=${(el) => (this.scroller = el)} onScroll=${this.onScroll} onKeyDown=${this.onKey}>
        <div class="spacer" style=${{ height: `${rows.length * ROW_HEIGHT}px` }}>${visible}</div>
      </div>
    </div>`;
  }
}

function TokenForm({ onToken, wrong }) {
  const submit = (e) => {
    e.preventDefault();
    const value = e.currentTarget.elements.token.value.trim();
    if (value !== '') onToken(value);
  };
  return html`<form class="token" onSubmit=${submit}>
    <h1>splinter inspector</h1>
    <p>This server needs its token (the one given to <code>--token-file</code>). It is kept in this tab's session storage and sent as <code>Authorization: Bearer</code>.</p>
    ${wrong ? html`<p class="error" role="alert">That token was refused.</p>` : null}
    <label>Token <input name="token" type="password" autocomplete="off" autofocus /></label>
    <button type="submit">Open</button>
  </form>`;
}

class App extends Component {
  constructor() {
    super();
    this.model = new KeyModel();
    this.state = {
      needToken: false,
      wrongToken: false,
      live: 'connecting',
      info: undefined,
      rates: [[], []],
      groups: [],
      shards: undefined,
      doctor: undefined,
      doctorError: undefined,
      streams: [],
      prefix: '',
      labels: '',
      rows: [],
      focus: 0,
      focusRows: false,
      selected: undefined,
      value: undefined,
      valueError: undefined,
    };
    this.pending = undefined;
    this.lastEpoch = undefined;
    this.abort = new AbortController();
    /** For bench/serve.ts: when set to an array by the bench, each value shown is recorded with its time. */
    window.__inspectorShown = undefined;
  }

  componentDidMount() {
    document.addEventListener('keydown', (e) => {
      if (e.key === '/' && !(e.target instanceof HTMLInputElement)) {
        e.preventDefault();
        this.filter?.focus();
      }
    });
    this.start();
  }

  async start() {
    this.abort.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.setState({ needToken: false });
    let indexed = false;
    const early = [];
    const onEvent = (type, data) => {
      if (type === 'ready' && !indexed) this.loadIndex().then(() => { indexed = true; for (const c of early.splice(0)) this.change(c); }, (e) => this.failed(e));
      if (type !== 'change') return;
      if (indexed) this.change(data);
      else early.push(data);
    };
    const onReconnect = () => {
      indexed = false;
    };
    followEvents(onEvent, onReconnect, (live) => this.setState({ live }), signal).catch((e) => this.failed(e));
    this.poll(signal);
    this.runDoctor();
  }

  failed(error) {
    if (error instanceof NeedToken) {
      this.abort.abort();
      this.setState({ needToken: true });
    }
  }

  async loadIndex() {
    const index = await getJson('/v1/index');
    this.model.load(index);
    this.refresh();
  }

  change(data) {
    const row = this.model.apply(data, Date.now());
    if (this.state.selected !== undefined && idOf(data) === this.state.selected) {
      if (row === undefined) this.setState({ value: undefined, valueError: `${shownKey(data.key)} was removed` });
      else this.open(row, false);
    }
    this.scheduleRender();
  }

  scheduleRender() {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.refresh();
    }, RENDER_MS);
  }

  /** The view of the key set under the filter (one pass over the keys; only visible rows are drawn). */
  refresh(prefix = this.state.prefix, labels = this.state.labels) {
    const mask = parseMask(labels) ?? 0n;
    this.setState({ rows: this.model.view(prefix, mask) });
  }

  /** The header every second (the chart's rate); signals and shards every 2 s, streams every 5 s (listing them passes over every key). */
  async poll(signal) {
    for (let round = 0; !signal.aborted; round++) {
      try {
        const at = Date.now();
        const info = await getJson('/v1/store');
        const previous = this.lastEpoch;
        this.lastEpoch = { epoch: info.epoch, at };
        this.setState((s) => ({ info, rates: addRate(s.rates, previous, info, at) }));
        if (round % 2 === 0) {
          const [signals, shards] = await Promise.all([getJson('/v1/signals'), getJson('/v1/shards')]);
          this.setState({ groups: signals.groups, shards });
        }
        if (round % 5 === 0) this.setState({ streams: (await getJson('/v1/streams')).streams });
      } catch (error) {
        this.failed(error);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async runDoctor() {
    try {
      this.setState({ doctor: await getJson('/v1/doctor'), doctorError: undefined });
    } catch (error) {
      if (error instanceof NeedToken) return this.failed(error);
      this.setState({ doctorError: error.code === 'ENOTSUP' ? 'No doctor for this store (it has no file).' : String(error.message) });
    }
  }

  async open(row, fromUser = true) {
    const id = idOf(row);
    if (fromUser) this.setState({ selected: id });
    if (!row.keyHex && (row.key === '.' || row.key === '..')) {
      // A URL path resolves these segments, escaped or not (browsers and fetch alike): no request can name such a key.
      this.setState({ value: undefined, valueError: `a key named "${row.key}" cannot be read through a URL path; read it with: splinter get` });
      return;
    }
    const asked = (this.valueAsked = (this.valueAsked ?? 0) + 1);
    try {
      const value = await getJson(`/v1/keys/${keySegment(row)}?decode=1`);
      // Another key was opened, or a later read of this one was shown already (answers may come out of order).
      if (this.state.selected !== id || asked < (this.valueShown ?? 0)) return;
      this.valueShown = asked;
      this.setState({ value, valueError: undefined }, () => {
        const shown = window.__inspectorShown;
        if (Array.isArray(shown)) shown.push({ key: value.key, value: value.value, at: performance.timeOrigin + performance.now() });
      });
    } catch (error) {
      if (error instanceof NeedToken) return this.failed(error);
      if (this.state.selected === id) this.setState({ value: undefined, valueError: String(error.message) });
    }
  }

  render(_, s) {
    if (s.needToken) {
      return html`<${TokenForm} wrong=${s.wrongToken} onToken=${(t) => {
        setToken(t);
        this.setState({ wrongToken: true });
        this.start();
      }} />`;
    }
    const maskBad = parseMask(s.labels) === undefined;
    return html`<div class="layout">
      <${Header} info=${s.info} rates=${s.rates} live=${s.live} />
      <main class="main">
        <section class="keys" aria-labelledby="keys-h">
          <h2 id="keys-h">Keys <span class="count">${s.rows.length} shown of ${this.model.rows.size}</span></h2>
          <div class="filters">
            <label>prefix <input class="prefix" type="search" placeholder="press / to filter" value=${s.prefix} ref=${(el) => (this.filter = el)}
              onFocus=${() => this.setState({ focusRows: false })}
              onInput=${(e) => { this.setState({ prefix: e.currentTarget.value, focus: 0 }); this.refresh(e.currentTarget.value); }}
              onKeyDown=${(e) => { if (e.key === 'ArrowDown' || e.key === 'Enter') { e.preventDefault(); this.setState({ focusRows: true, focus: 0 }); } }} /></label>
            <label>labels <input class="labels" type="text" placeholder="mask, e.g. 0x4" aria-invalid=${maskBad ? 'true' : 'false'} value=${s.labels}
              onFocus=${() => this.setState({ focusRows: false })}
              onInput=${(e) => { this.setState({ labels: e.currentTarget.value, focus: 0 }); this.refresh(undefined, e.currentTarget.value); }} /></label>
          </div>
          <${KeyTable} rows=${s.rows} focus=${s.focus} focusRows=${s.focusRows} selected=${s.selected}
            onFocus=${(i) => this.setState({ focus: i, focusRows: true })} onOpen=${(row) => this.open(row)} />
        </section>
        <section class="value-panel" aria-label="value">
          <${ValueView} value=${s.value} error=${s.valueError} />
        </section>
      </main>
      <div class="panels">
        <${Signals} groups=${s.groups} />
        <${Shards} shards=${s.shards} />
        <${Doctor} doctor=${s.doctor} error=${s.doctorError} onRun=${() => this.runDoctor()} />
        <${Streams} streams=${s.streams} />
      </div>
    </div>`;
  }
}

const root = document.getElementById('app');
root.textContent = ''; // the boot message, for a browser without modules
render(html`<${App} />`, root);
