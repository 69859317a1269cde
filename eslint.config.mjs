// Lint all TypeScript with typescript-eslint's type-checked recommended rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', '.serverless/', '.esbuild/', '.build/', 'drill-output/', 'test-artifacts/', '**/*.cjs', '**/*.mjs'],
  },
  {
    files: ['{functions,drill,cli,tests,bench}/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
);
