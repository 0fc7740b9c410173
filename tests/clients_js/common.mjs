// What every program shares: the model named by the environment, its provider options,
// and printing one JSON object (the result, or the error) on stdout.
//   SY_BASE_URL  Switchyard's root URL      SY_API_KEY  a key for it
//   SY_MODEL     the model name             SY_KIND     openai-chat | openai-responses | openai-default | anthropic
//   SY_REASONING "1" to ask for reasoning (with a summary on the Responses API)
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

export const kind = () => env('SY_KIND');
export const streaming = () => process.env.SY_STREAM === '1';

export function model() {
  const baseURL = `${env('SY_BASE_URL')}/v1`;
  const apiKey = env('SY_API_KEY');
  const name = env('SY_MODEL');
  switch (kind()) {
    case 'openai-chat': return createOpenAI({ baseURL, apiKey }).chat(name);
    case 'openai-responses': return createOpenAI({ baseURL, apiKey }).responses(name);
    case 'openai-default': return createOpenAI({ baseURL, apiKey })(name);
    case 'anthropic': return createAnthropic({ baseURL, apiKey })(name);
    default: throw new Error(`unknown SY_KIND ${kind()}`);
  }
}

export function providerOptions() {
  if (process.env.SY_REASONING !== '1') return undefined;
  return kind() === 'anthropic'
    ? { anthropic: { thinking: { type: 'enabled', budgetTokens: 1024 } } }
    : { openai: { reasoningEffort: 'low', reasoningSummary: 'auto', forceReasoning: true } };
}

export const common = () => ({ model: model(), maxRetries: 0, providerOptions: providerOptions() });

export function usage(u) {
  return u ? { inputTokens: u.inputTokens ?? null, outputTokens: u.outputTokens ?? null } : null;
}

export async function run(main) {
  try {
    process.stdout.write(JSON.stringify({ ok: true, ...(await main()) }) + '\n');
  } catch (error) {
    const detail = (e) => e && {
      name: e.name, message: e.message, statusCode: e.statusCode, url: e.url,
      responseBody: e.responseBody, cause: e.cause ? String(e.cause) : undefined,
    };
    process.stdout.write(JSON.stringify({
      ok: false, error: detail(error), lastError: detail(error.lastError), errors: error.errors?.map(detail),
    }) + '\n');
    process.exitCode = 1;
  }
}
