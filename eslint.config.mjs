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
    rules: {
      // A leading underscore marks a binding that is there only to be left out (destructuring to drop a key).
      // A closure may read a binding that is assigned once, later (the drill's context, set after the approval server starts).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
);
