"""Answer extraction, verifiers, format rewards and reward specs shared by reject-sample, grpo
and eval.

    from thinkpipe.core.rewards import score_record, load_reward
    score_record({"response": "<think>..</think><answer>B</answer>", "answer": "B",
                  "question_type": "multiple_choice", "options": ["x", "y"]}).status  # correct
    load_reward("vilasr")(record)   # {"vilasr": 1.0}
"""
from .choices import gold_letters, letters
from .compat import COMPAT
from .extract import Extraction, decimal, extract, number, strip_reasoning
from .formats import assistant_turns, reflection, think_answer, vilasr_format
from .judge import Judge
from .validators import VALIDATORS
from .score import CUT_OFF, STATUSES, NotScorable, Scored, finish_reason, prediction, score_record
from .spec import BUILTINS, NEEDS_ANSWER, load_reward
from .verifiers import VERIFIERS, Unparseable, mra, question_type, rouge, wer

__all__ = ["gold_letters", "letters", "COMPAT", "Extraction", "decimal", "extract", "number",
           "strip_reasoning", "CUT_OFF", "finish_reason",
           "assistant_turns", "reflection", "think_answer", "vilasr_format", "Judge", "VALIDATORS",
           "NEEDS_ANSWER", "STATUSES", "NotScorable", "Scored", "prediction", "score_record",
           "BUILTINS",
           "load_reward", "VERIFIERS", "Unparseable", "mra", "question_type", "rouge", "wer"]
