"""Answer extraction, verifiers, format rewards and reward specs shared by reject-sample, grpo
and eval.

    from thinkpipe.core.rewards import score_record, load_reward
    score_record({"response": "<think>..</think><answer>B</answer>", "answer": "B",
                  "question_type": "multiple_choice", "options": ["x", "y"]}).status  # correct
    load_reward("vilasr")(record)   # {"vilasr": 1.0}
"""
from .compat import COMPAT
from .extract import Extraction, extract, letters, number, strip_reasoning
from .formats import assistant_turns, reflection, think_answer, vilasr_format
from .judge import Judge
from .puzzles import VALIDATORS
from .score import STATUSES, NotScorable, Scored, prediction, score_record
from .spec import BUILTINS, load_reward
from .verifiers import VERIFIERS, Unparseable, mra, question_type, rouge, wer

__all__ = ["COMPAT", "Extraction", "extract", "letters", "number", "strip_reasoning",
           "assistant_turns", "reflection", "think_answer", "vilasr_format", "Judge", "VALIDATORS",
           "STATUSES", "NotScorable", "Scored", "prediction", "score_record", "BUILTINS",
           "load_reward", "VERIFIERS", "Unparseable", "mra", "question_type", "rouge", "wer"]
