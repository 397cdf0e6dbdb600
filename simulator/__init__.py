"""カスハラ対応ロールプレイ訓練シミュレータ: personas, rubric judge, director, voices, store and UI."""

__version__ = "0.1.0"
