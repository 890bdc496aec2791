/** A block of an HTML report. */
export type ReportSection =
  | { readonly kind: 'text'; readonly heading?: string; readonly text: string }
  | {
      readonly kind: 'table';
      readonly heading?: string;
      readonly rows: readonly (readonly [string, string])[];
    }
  | { readonly kind: 'svg'; readonly heading?: string; readonly svg: string; readonly caption?: string }
  /** A table with a header row. */
  | {
      readonly kind: 'grid';
      readonly heading?: string;
      readonly columns: readonly string[];
      readonly rows: readonly (readonly string[])[];
    }
  /** Preformatted text, e.g. a config; `folded`: inside a closed `<details>` whose summary is the heading. */
  | { readonly kind: 'code'; readonly heading?: string; readonly text: string; readonly folded?: boolean };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderSection(s: ReportSection): string {
  const h = s.heading ? `<h2>${escapeHtml(s.heading)}</h2>` : '';
  switch (s.kind) {
    case 'text':
      return `${h}<p>${escapeHtml(s.text)}</p>`;
    case 'table':
      return `${h}<table>${s.rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
    case 'svg':
      return `${h}<figure class="chart">${s.svg}${s.caption ? `<figcaption>${escapeHtml(s.caption)}</figcaption>` : ''}</figure>`;
    case 'grid': {
      const head = `<tr>${s.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
      const body = s.rows
        .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
        .join('');
      return `${h}<table class="grid"><thead>${head}</thead><tbody>${body}</tbody></table>`;
    }
    case 'code': {
      const pre = `<pre><code>${escapeHtml(s.text)}</code></pre>`;
      if (!s.folded) return `${h}${pre}`;
      return `<details><summary>${escapeHtml(s.heading ?? 'details')}</summary>${pre}</details>`;
    }
  }
}

/** A self-contained HTML page (inline SVG, no scripts, no external assets). */
export function renderHtmlReport(title: string, sections: readonly ReportSection[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse}th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
table.grid{font-size:.9em}details{margin:1.5em 0}summary{cursor:pointer;font-weight:bold;font-size:1.2em}table.grid th{border-bottom:2px solid #999}pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.85em}
</style></head><body><h1>${escapeHtml(title)}</h1>
${sections.map(renderSection).join('\n')}
</body></html>
`;
}
