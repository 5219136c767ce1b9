"""The guided anonymous dialogue: a state machine over plain messages (no line-bot-sdk here)."""
