// The panels beside the key table: the header with its writes-per-second chart, the signal
// groups, the shard table, doctor findings and streams. Store data only ever as text.
import { Component, h } from '/assets/preact.mjs';
import htm from '/assets/htm.mjs';
import uPlot from '/assets/uplot.mjs';
import { shownKey } from '/assets/model.js';

const html = htm.bind(h);

/** Seconds of history the chart keeps. */
const CHART_SECONDS = 120;

/** writes/s from the global epoch, one point a poll; uPlot draws on a canvas (no markup from data). */
export class RateChart extends Component {
  componentDidMount() {
    this.plot = new uPlot(
      {
        width: 360,
        height: 120,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [{ stroke: '#888' }, { stroke: '#888', size: 50 }],
        series: [{}, { label: 'writes/s', stroke: '#2a7de1', width: 2, fill: 'rgba(42,125,225,0.12)' }],
      },
      [[], []],
      this.el,
    );
  }

  componentDidUpdate() {
    this.plot?.setData(this.props.data);
  }

  componentWillUnmount() {
    this.plot?.destroy();
  }

  shouldComponentUpdate(next) {
    return next.data !== this.props.data;
  }

  render() {
    return html`<div class="chart" role="img" aria-label="writes per second" ref=${(el) => (this.el = el)}></div>`;
  }
}

/** Keeps the rate series: [[seconds], [writes/s]], CHART_SECONDS long. */
export function addRate(series, previous, info, at) {
  if (previous === undefined) return series;
  const dt = (at - previous.at) / 1000;
  const writes = Number(BigInt(info.epoch) - BigInt(previous.epoch));
  const xs = [...series[0], at / 1000];
  const ys = [...series[1], dt > 0 && writes >= 0 ? writes / dt : 0];
  const drop = Math.max(0, xs.length - CHART_SECONDS);
  return [xs.slice(drop), ys.slice(drop)];
}

export function Header({ info, rates, live }) {
  if (info === undefined) return html`<header class="head"><h1>splinter inspector</h1><p>reading the store…</p></header>`;
  const g = info.geometry;
  const last = rates[1].length > 0 ? rates[1][rates[1].length - 1] : 0;
  return html`<header class="head">
    <div class="facts">
      <h1>splinter inspector <span class="target">${info.target ?? '(in-process store)'}</span></h1>
      <dl>
        <div><dt>slots</dt><dd>${g.slots}</dd></div>
        <div><dt>max value</dt><dd>${g.maxValueSize} B</dd></div>
        <div><dt>embeddings</dt><dd>${g.embeddings ? 'yes' : 'no'}</dd></div>
        <div><dt>keys</dt><dd class="keys-count">${info.keys}</dd></div>
        <div><dt>fill</dt><dd>${(info.fill * 100).toFixed(1)} %</dd></div>
        <div><dt>global epoch</dt><dd class="global-epoch">${info.epoch}</dd></div>
        <div><dt>writes/s</dt><dd class="rate">${Math.round(last)}</dd></div>
        <div><dt>events</dt><dd class=${`live ${live}`}>${live}</dd></div>
      </dl>
    </div>
    <${RateChart} data=${rates} />
  </header>`;
}

export function Signals({ groups }) {
  return html`<section class="panel signals" aria-labelledby="signals-h">
    <h2 id="signals-h">Signal groups</h2>
    <ol class="groups">
      ${groups.map((g) => html`<li class=${g.count !== '0' ? 'hot' : ''} title=${`group ${g.group}: ${g.count}`}><span class="g">${g.group}</span><span class="c">${g.count}</span></li>`)}
    </ol>
  </section>`;
}

export function Shards({ shards }) {
  const records = (shards?.records ?? []).filter((r) => r.shardId !== 0);
  return html`<section class="panel shards" aria-labelledby="shards-h">
    <h2 id="shards-h">Shards</h2>
    ${records.length === 0
      ? html`<p class="hint">No shard has a claim.</p>`
      : html`<table>
          <thead><tr><th>shard</th><th>pid</th><th>intent</th><th>priority</th><th>sovereign</th></tr></thead>
          <tbody>
            ${records.map(
              (r) => html`<tr class=${r.sovereign ? 'sovereign' : ''} data-shard=${r.shardId}>
                <td>0x${Number(r.shardId).toString(16)}</td><td>${r.pid}</td><td>${r.intent}</td><td>${r.priority}</td>
                <td>${r.sovereign ? html`<strong class="crown">★ sovereign</strong>` : ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>`}
  </section>`;
}

export function Doctor({ doctor, error, onRun }) {
  const findings = doctor?.findings ?? [];
  return html`<section class="panel doctor" aria-labelledby="doctor-h">
    <h2 id="doctor-h">Doctor <button type="button" onClick=${onRun}>Run again</button></h2>
    ${error !== undefined ? html`<p class="hint">${error}</p>` : null}
    ${doctor === undefined ? null : findings.length === 0 ? html`<p class="ok">No findings: the store looks sound.</p>` : null}
    <ul class="findings">
      ${findings.map(
        (f) => html`<li class=${`finding ${f.severity}`}>
          <span class="sev">${f.severity}</span> <code>${f.kind}</code>${f.slot === undefined ? '' : ` slot ${f.slot}`}${f.key === undefined ? '' : html` <code>${shownKey(f.key)}</code>`}: ${f.message}
        </li>`,
      )}
    </ul>
  </section>`;
}

export function Streams({ streams }) {
  if (streams.length === 0) return null;
  return html`<section class="panel streams" aria-labelledby="streams-h">
    <h2 id="streams-h">Streams</h2>
    <table>
      <thead><tr><th>stream</th><th>capacity</th><th>head</th><th>oldest</th></tr></thead>
      <tbody>${streams.map((s) => html`<tr><td>${s.name}</td><td>${s.capacity}</td><td>${s.head}</td><td>${s.oldest}</td></tr>`)}</tbody>
    </table>
  </section>`;
}
