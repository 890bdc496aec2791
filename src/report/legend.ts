/**
 * A legend for layered charts whose layers are not one field's categories (a score line, a threshold, a
 * shaded band…): each layer encodes its colour with a constant `datum`, all on one nominal scale, so
 * Vega-Lite draws a single legend with one entry per layer.
 */

/** One legend entry: the label shown and the colour of its layer. */
export interface LegendEntry {
  readonly label: string;
  readonly color: string;
}

/** The colour encoding of the layer `label` (one of `entries`), with the legend on top. */
export function legendColor(entries: readonly LegendEntry[], label: string): Record<string, unknown> {
  return {
    datum: label,
    type: 'nominal',
    title: null,
    scale: { domain: entries.map((e) => e.label), range: entries.map((e) => e.color) },
    legend: {
      orient: 'top',
      direction: 'horizontal',
      symbolType: 'square',
      symbolOpacity: 1,
      labelLimit: 400,
      columns: Math.min(entries.length, 3),
    },
  };
}
