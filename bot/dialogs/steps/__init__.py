"""One module per step of the dialogue; each has `enter(ctx)` (ask) and `on_input(ctx, inp)` (answer)."""
