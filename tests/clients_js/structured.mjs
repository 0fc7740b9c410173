// Structured output with a schema: SY_MODE=object (generateObject), output
// (generateText with Output.object) or stream (streamText with Output.object).
import { generateObject, generateText, Output, streamText } from 'ai';
import { z } from 'zod';
import { common, run } from './common.mjs';

const schema = z.object({ city: z.string(), population: z.number().int() });

run(async () => {
  const prompt = process.env.SY_PROMPT ?? 'Name a large city and its population as JSON.';
  const maxOutputTokens = Number(process.env.SY_MAX_TOKENS ?? 128);
  const mode = process.env.SY_MODE ?? 'object';
  if (mode === 'object') {
    const r = await generateObject({ ...common(), schema, prompt, maxOutputTokens });
    return { object: r.object, finishReason: r.finishReason };
  }
  if (mode === 'output') {
    const r = await generateText({ ...common(), output: Output.object({ schema }), prompt, maxOutputTokens });
    return { object: r.output, finishReason: r.finishReason };
  }
  const r = streamText({ ...common(), output: Output.object({ schema }), prompt, maxOutputTokens, onError: () => {} });
  let partials = 0;
  for await (const partial of r.partialOutputStream) if (partial) partials += 1;
  return { object: await r.output, partials, finishReason: await r.finishReason };
});
