// @ts-check
// Lints the TypeScript outside functions/ (which has its own config): the packages (contract,
// client, dev stack), the self-test pages, the coturn kit's tools, the scripts and the tests.
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["functions/**", "**/node_modules/**", "**/dist/**", "test-output/**", "**/*.mjs", "**/*.d.mts"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    files: ["test/**/*.ts", "packages/dev-stack/**/*.ts"],
    rules: {
      // Fakes implement async interfaces with synchronous bodies, and rethrow whatever failure
      // a test configured; Firestore's DocumentData fields are `any` by design.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
    },
  },
);
