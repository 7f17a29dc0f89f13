// The chat runners Dana knows. A new one (Ollama's native API, Anthropic) is a module
// exporting a RunnerDefinition (see runner.ts) and one line here.
import { localRunner } from './local.js';
import { openAiCompatibleRunner } from './openai.js';
import type { RunnerDefinition } from './runner.js';

export const RUNNERS: readonly RunnerDefinition[] = [
  localRunner,
  openAiCompatibleRunner,
];
