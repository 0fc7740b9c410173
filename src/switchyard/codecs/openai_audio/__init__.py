"""The Audio API: transcriptions and translations (multipart forms in; json, text, srt, vtt
and verbose_json out; ``transcript.text.*`` stream events) and speech (a JSON body in;
``speech.audio.*`` stream events)."""
