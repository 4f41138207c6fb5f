"""What the drawing environment says to the model (thinkpipe's own wording).

The observation's first sentence follows VILASR's protocol exactly ("The index of the given
image is k (width: W, height: H)."), since models trained on it key on that sentence; the rest
is thinkpipe's wording. Pass other texts through DrawConfig to match another model's training.
"""

SYSTEM_VILASR = """You answer questions about images by reasoning step by step and drawing on them.
Every turn starts with your reasoning inside <think> </think>, followed by one action:
- Action: Object Mapper — mark objects with bounding boxes.
- Action: Path Tracer — draw auxiliary line segments (paths, distances, alignments).
- Action: Answer — give the final answer inside <answer> </answer>.
After Object Mapper or Path Tracer, list the drawings in a ```json block:
boxes as {"index": i, "bbox_2d": [x1, y1, x2, y2], "label": "name"},
lines as {"index": i, "start_point_2d": [x1, y1], "end_point_2d": [x2, y2], "label": "name"}.
`index` is the number of the image to draw on; coordinates are pixels of that image, with (0, 0)
at the top-left corner. Each drawing returns a new image with the next index. Drawing again with
a label you used before replaces that drawing, so revise a wrong box or line under its label."""

SYSTEM_TOOL_CALL = """You answer questions about images by reasoning step by step and drawing on them.
Start every turn with your reasoning inside <think> </think>. To draw, call the tools, one
<tool_call>{"name": ..., "arguments": {...}}</tool_call> per drawing:
- draw_bbox: {"index": i, "bbox_2d": [x1, y1, x2, y2], "label": "name"} marks an object.
- draw_line: {"index": i, "start_point_2d": [x1, y1], "end_point_2d": [x2, y2], "label": "name"}.
`index` is the number of the image to draw on; coordinates are pixels, (0, 0) at the top-left.
Each call returns a new image with the next index; reusing a label replaces that drawing.
When you are done, write Action: Answer and the final answer inside <answer> </answer>."""

IMAGE_INDEX = "The index of the given image is {index} (width: {width}, height: {height})."
CONTINUE = ("Continue your reasoning. Check the drawing against the image; if a box or line is "
            "wrong, draw it again under the same label.")
FINAL = ("You cannot draw any more. Answer the question now, with your final answer inside "
         "<answer> </answer>.")
ERROR = "The drawing could not be made: {error}. Fix it and continue."
