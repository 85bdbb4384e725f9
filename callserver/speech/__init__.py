"""Text-to-speech IVR prompts: espeak-ng audio as cached 8 kHz `.sln` files that Asterisk can play."""

from callserver.speech.audio import AudioStats, analyse, check_intelligible, expected_duration
from callserver.speech.build import BuildReport, BuiltPrompt, FailedPrompt, build_prompts
from callserver.speech.model import (
    BackendUnavailable,
    PromptQualityError,
    PromptResult,
    SpeechError,
    SynthesisFailed,
    VoiceNotFound,
)
from callserver.speech.synth import PromptSynth, asterisk_name

__all__ = [
    "AudioStats",
    "BackendUnavailable",
    "BuildReport",
    "BuiltPrompt",
    "FailedPrompt",
    "PromptQualityError",
    "PromptResult",
    "PromptSynth",
    "SpeechError",
    "SynthesisFailed",
    "VoiceNotFound",
    "analyse",
    "asterisk_name",
    "build_prompts",
    "check_intelligible",
    "expected_duration",
]
