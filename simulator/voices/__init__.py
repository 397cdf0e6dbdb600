"""Persona voices: what turns the director's decision into the client's next line."""

from simulator.voices.base import Voice, VoiceLine, VoiceRequest

__all__ = ["Voice", "VoiceLine", "VoiceRequest"]
