"""Witnessed checkpoints: C2SP signed notes, the witness service, clients that insist."""
