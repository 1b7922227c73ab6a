"""The embedded eSpeak NG corpus: our sentences (sentences), the library binding (espeak), the builder (build)."""
