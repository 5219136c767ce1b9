"""The guided anonymous dialogue: a state machine over plain messages (no line-bot-sdk here).

- `machine.py`  states, transitions, global words, crisis/resume/delete handling (one screen)
- `core.py`     the shared vocabulary: State, Input, effects, Ctx, Result
- `steps/`      one module per step (greeting, about, telling, reflect, correct, followups,
                consent, declined, contact, handed_off)
- `crisis.py`   risk → the city's numbers for each flag, then the one-tap urgent handoff
- `copy.yaml`   every word the resident reads (a city edits it; the consent text is versioned)
- `retention.py` purge of unconsented conversations (called periodically by the worker)

Rich menu: the global words also work as postback data, so a city's rich menu can send
`g:restart` (最初から), `g:quit` (やめる), `g:human` (人と話したい), `g:emergency` (緊急),
`g:help` (ヘルプ) and `g:delete` (削除).
"""
