// Ends the test output with one plain line, "jest: N passed, N failed[, N skipped]", so a reader
// (or CI) can see the count without parsing jest's own summary.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
    // After jest's own summary, so it is the last line of jest's output (`npm test` ends with its own line after it).
    process.once('exit', () => process.stdout.write(`\n${line}\n`));
  }
}
module.exports = SummaryReporter;
