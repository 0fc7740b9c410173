// A multi-turn chat: each turn sends the whole history so far (the earlier answers as the
// SDK keeps them), as a chat UI does. SY_TURNS is a JSON array of user messages.
import { generateText, streamText } from 'ai';
import { common, run, streaming, usage } from './common.mjs';

run(async () => {
  const turns = JSON.parse(process.env.SY_TURNS ?? '["Hello.", "And again?"]');
  const maxOutputTokens = Number(process.env.SY_MAX_TOKENS ?? 64);
  const messages = [];
  const answers = [];
  for (const content of turns) {
    messages.push({ role: 'user', content });
    let r;
    if (streaming()) {
      r = streamText({ ...common(), messages, maxOutputTokens, onError: () => {} });
      for await (const part of r.fullStream) if (part.type === 'error') throw part.error;
      r = { text: await r.text, reasoningText: await r.reasoningText, responseMessages: await r.responseMessages,
            usage: await r.usage };
    } else {
      r = await generateText({ ...common(), messages, maxOutputTokens });
    }
    answers.push({ text: r.text, reasoningText: r.reasoningText ?? null, usage: usage(r.usage) });
    messages.push(...r.responseMessages);
  }
  return { answers, messages: messages.length };
});
