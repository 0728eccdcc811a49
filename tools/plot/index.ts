// The plot room's API, for `phyr plot` and `phyr compare --plot`:
//   const page = renderPlotPage(loadPlotInputs(['a.json', 'b.json']));
// loadPlotInputs throws PlotInputError (code PHYR_PLOT_USAGE: a usage error, exit 2)
// naming the file and line of a bad input.
export { loadPlotInput, loadPlotInputs, resultInput, PLOT_INPUT_MAX_BYTES } from './inputs';
export { renderPlotPage, type PlotPageOptions } from './page';
export { writeAtomically } from './write';
export { PlotInputError, PLOT_USAGE } from './errors';
export { buildCharts, type Chart, type Series, type Axis } from './series';
export type { PlotInput, ResultJob, Timeline, LogFile } from './types';
