// Gantry web chat.
