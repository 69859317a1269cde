process.env['POWERTOOLS_LOG_LEVEL'] ??= 'SILENT';
import 'aws-sdk-client-mock-jest';
// aws-local-stepfunctions targets Node 22 (Promise.withResolvers); the polyfill lives with the runner.
import '#drill/polyfills';
