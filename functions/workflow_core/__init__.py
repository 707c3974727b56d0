"""The shared runtime of every Lambda: event contract, workflow definition, publishing, clock."""
