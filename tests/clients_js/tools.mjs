// A multi-step tool loop: the model calls `lookup`, the program runs it, the model answers.
// SY_STREAM=1 runs it with streamText; SY_FORCE_TOOL=1 forces the call on the first step and
// forbids tools after it (for a small local model).
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { common, run, streaming, usage } from './common.mjs';

const lookup = tool({
  description: 'Look up the secret value stored under a key.',
  inputSchema: z.object({ key: z.string().describe('the key to look up') }),
  execute: async ({ key }) => ({ value: `VALUE-${key}` }),
});

const step = (s) => ({
  finishReason: s.finishReason,
  text: s.text,
  reasoningText: s.reasoningText ?? null,
  toolCalls: s.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })),
  toolResults: s.toolResults.map((r) => ({ id: r.toolCallId, name: r.toolName, output: r.output })),
});

run(async () => {
  const force = process.env.SY_FORCE_TOOL === '1';
  const options = {
    ...common(),
    prompt: process.env.SY_PROMPT ?? 'What is the secret value under the key "alpha"? Use the lookup tool.',
    tools: { lookup },
    stopWhen: stepCountIs(4),
    maxOutputTokens: Number(process.env.SY_MAX_TOKENS ?? 128),
    prepareStep: force
      ? ({ stepNumber }) => ({ toolChoice: stepNumber === 0 ? { type: 'tool', toolName: 'lookup' } : 'none' })
      : undefined,
  };
  if (!streaming()) {
    const r = await generateText(options);
    return { text: r.text, steps: r.steps.map(step), usage: usage(r.totalUsage) };
  }
  const r = streamText({ ...options, onError: () => {} });
  for await (const part of r.fullStream) {
    if (part.type === 'error') throw part.error;
  }
  return { text: await r.text, steps: (await r.steps).map(step), usage: usage(await r.totalUsage) };
});
