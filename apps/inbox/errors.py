class InboxError(Exception):
    """A refusal the agent or the citizen reads as is (French)."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message
