"""The embedded eSpeak NG corpus: our sentences (sentences), the library binding (espeak), the builder (build),
and the clips' timings cut into word segments (timings)."""
