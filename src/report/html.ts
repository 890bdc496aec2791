/** A block of an HTML report. */
export type ReportSection =
  | { readonly kind: 'text'; readonly heading?: string; readonly text: string }
  | {
      readonly kind: 'table';
      readonly heading?: string;
      readonly rows: readonly (readonly [string, string])[];
    }
  | { readonly kind: 'svg'; readonly heading?: string; readonly svg: string; readonly caption?: string };

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
      return `${h}<figure>${s.svg}${s.caption ? `<figcaption>${escapeHtml(s.caption)}</figcaption>` : ''}</figure>`;
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
</style></head><body><h1>${escapeHtml(title)}</h1>
${sections.map(renderSection).join('\n')}
</body></html>
`;
}
