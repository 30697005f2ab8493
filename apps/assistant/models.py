"""The assistant keeps no table of its own: its conversations and generations are the model-call
platform's (apps.ai.models), where every app's model calls are audited."""
