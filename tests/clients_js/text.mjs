// generateText, or streamText with SY_STREAM=1, on SY_PROMPT.
import { generateText, streamText } from 'ai';
import { common, run, streaming, usage } from './common.mjs';

run(async () => {
  const prompt = process.env.SY_PROMPT ?? 'Say hello.';
  const maxOutputTokens = Number(process.env.SY_MAX_TOKENS ?? 64);
  if (!streaming()) {
    const r = await generateText({ ...common(), prompt, maxOutputTokens, include: { responseBody: true } });
    return { text: r.text, reasoningText: r.reasoningText ?? null, finishReason: r.finishReason,
             usage: usage(r.usage), responseId: r.response.id, body: r.response.body ?? null };
  }
  const r = streamText({ ...common(), prompt, maxOutputTokens, onError: () => {} });
  const parts = {};
  let deltas = 0;
  let text = '';
  for await (const part of r.fullStream) {
    parts[part.type] = (parts[part.type] ?? 0) + 1;
    if (part.type === 'error') throw part.error;
    if (part.type === 'text-delta') { deltas += 1; text += part.text; }
  }
  return { text, deltas, parts, reasoningText: (await r.reasoningText) ?? null,
           finishReason: await r.finishReason, usage: usage(await r.usage) };
});
