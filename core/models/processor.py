"""An image-only Qwen-VL processor: the stock one without its video processor.

transformers 5.x builds `Qwen2_5_VLProcessor` with a video processor, which needs torchvision;
torchvision does not work beside the CPU torch this project pins. This subclass has only an
image processor (the PIL backend) and a tokenizer. It is registered with AutoProcessor for the
Qwen2-VL and Qwen2.5-VL configs, so `AutoProcessor.from_pretrained(folder)` returns it, and
`load_processor` builds it from any Qwen-VL folder — a tiny one from `thinkpipe init-model` or
a real checkpoint — the same way.

The processor returns `mm_token_type_ids` (1 on image placeholder tokens), which the
transformers 5.x Qwen-VL forward needs to place multimodal rotary positions.
"""
from __future__ import annotations

from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.processing_utils import ProcessorMixin

IMAGE_TOKEN, VIDEO_TOKEN = "<|image_pad|>", "<|video_pad|>"


class ImageOnlyQwenVLProcessor(Qwen2_5_VLProcessor):
    """Qwen2/2.5-VL processor with images only (no torchvision-backed video processor)."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        # Qwen2_5_VLProcessor.__init__ insists on a video processor: set its fields ourselves.
        self.image_token = getattr(tokenizer, "image_token", None) or IMAGE_TOKEN
        self.video_token = getattr(tokenizer, "video_token", None) or VIDEO_TOKEN
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)


def register() -> None:
    """Make AutoProcessor return the image-only processor for Qwen2-VL and Qwen2.5-VL folders."""
    from transformers import AutoProcessor, Qwen2_5_VLConfig, Qwen2VLConfig

    for config_class in (Qwen2VLConfig, Qwen2_5_VLConfig):
        AutoProcessor.register(config_class, ImageOnlyQwenVLProcessor, exist_ok=True)
