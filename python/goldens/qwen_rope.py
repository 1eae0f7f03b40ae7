#!/usr/bin/env python3
"""Golden prompt text and M-RoPE position ids for Qwen2-VL, Qwen2.5-VL and Qwen3-VL videos, made by
running Hugging Face transformers' OWN code: the processors' placeholder expansion (and Qwen3-VL's
timestamps) and the models' `get_rope_index`, copied verbatim below from huggingface/transformers
(Apache License 2.0, Copyright 2024-2025 The Qwen Team and The HuggingFace Inc. team) at the commits
named above each block. Only the surroundings are shims (marked SHIM): a config, a tokenizer, the
processor base class and a video processor that returns grids without pixels.

transformers itself is not installed (it cannot be pip-installed here); only Debian's python3-torch
is needed:  /usr/bin/python3 python/goldens/qwen_rope.py > test/goldens/qwen-rope.json

Units: the shim tokenizer makes each special token (<|vision_start|>, <|video_pad|>, ...) one token and
every other character one token, so a golden's text runs are counted in characters; the test
(test/mrope/goldens.test.ts) tokenizes vidlm's text the same way. Grids are given in patches
(grid_thw as the video processor reports it: h and w before the 2x2 merge).
"""
import json
import sys
from types import SimpleNamespace
from typing import List, Optional, Union

import numpy as np
import torch

# ------------------------------------------------------------------------------------------- SHIMS

SPECIAL_TOKENS = {"<|vision_start|>": 151652, "<|vision_end|>": 151653, "<|image_pad|>": 151655, "<|video_pad|>": 151656}


def shim_tokenize(text):
    """SHIM: one id per special token, one per other character."""
    ids, i = [], 0
    while i < len(text):
        for tok, tid in SPECIAL_TOKENS.items():
            if text.startswith(tok, i):
                ids.append(tid)
                i += len(tok)
                break
        else:
            ids.append(ord(text[i]))
            i += 1
    return ids


class ShimTokenizer:
    """SHIM: keeps the (expanded) text it was given, so the golden records the prompt the processor built."""
    init_kwargs = {}

    def convert_tokens_to_ids(self, token):
        return SPECIAL_TOKENS[token]

    def __call__(self, text, **kwargs):
        self.last_text = list(text)
        return {"input_ids": [shim_tokenize(t) for t in text]}


# SHIM: type names the verbatim signatures mention
ImageInput = TextInput = PreTokenizedInput = VideoInput = object


class Unpack:
    def __class_getitem__(cls, item):
        return object


class ShimLogger:
    def warning_once(self, *args, **kwargs):
        pass


logger = ShimLogger()


class BatchFeature(dict):  # SHIM: the processors' return type, a plain dict here
    def __init__(self, data=None, tensor_type=None):
        super().__init__(data or {})


class Qwen2_5_VLProcessorKwargs:  # SHIM: only passed to _merge_kwargs
    pass


class Qwen3VLProcessorKwargs:  # SHIM
    pass


class ShimProcessorMixin:
    """SHIM for transformers' ProcessorMixin: keeps the parts, splits kwargs, no token checks."""

    def __init__(self, image_processor=None, tokenizer=None, video_processor=None, chat_template=None, **kwargs):
        self.image_processor, self.tokenizer, self.video_processor = image_processor, tokenizer, video_processor

    def _merge_kwargs(self, kwargs_class, tokenizer_init_kwargs=None, **kwargs):
        return {"text_kwargs": {}, "images_kwargs": {}, "videos_kwargs": dict(kwargs.get("videos_kwargs", {}))}

    def _check_special_mm_tokens(self, *args, **kwargs):
        pass


class ShimVideoProcessor:
    """SHIM: returns video_grid_thw (and Qwen3-VL's metadata) for pixel-less videos
    {"num_frames", "grid_h", "grid_w", "frames_indices", "fps"} (grid in patches)."""

    merge_size = 2
    temporal_patch_size = 2

    def grid_t(self, num_frames, temporal_patch_size=2):
        """grid_t as Qwen2VLVideoProcessor._preprocess computes it, on a pixel-less stand-in of the frames.
        The five lines from `if patches.shape[1] ...` are verbatim from huggingface/transformers@000513e6ac52423dd6fe684019e482fe85b5aaf1
        src/transformers/models/qwen2_vl/video_processing_qwen2_vl.py (an odd count repeats the last frame)."""
        patches = torch.zeros(1, num_frames, 1, 1, 1)
        if patches.shape[1] % temporal_patch_size != 0:
            repeats = patches[:, -1:].repeat(1, self.temporal_patch_size - 1, 1, 1, 1)
            patches = torch.cat([patches, repeats], dim=1)

        batch_size, grid_t, channel = patches.shape[:3]
        grid_t = grid_t // temporal_patch_size
        return grid_t

    def __call__(self, videos=None, **kwargs):
        thw = [[self.grid_t(v["num_frames"]), v["grid_h"], v["grid_w"]] for v in videos]
        meta = [SimpleNamespace(fps=v.get("fps"), frames_indices=list(v.get("frames_indices", []))) for v in videos]
        return {"video_grid_thw": torch.tensor(thw), "video_metadata": meta}


class ShimImageProcessor:
    merge_size = 2

    def __call__(self, images=None, **kwargs):
        return {"image_grid_thw": torch.tensor([[1, im["grid_h"], im["grid_w"]] for im in images])}


def config(tokens_per_second=None):
    """SHIM: the config fields get_rope_index reads (Qwen's real token ids; spatial merge 2)."""
    vision = SimpleNamespace(spatial_merge_size=2, tokens_per_second=tokens_per_second)
    return SimpleNamespace(vision_config=vision, image_token_id=151655, video_token_id=151656, vision_start_token_id=151652)


# ------------------------------------------------------------------------------ Qwen2-VL (verbatim)


class Qwen2VLProcessor(ShimProcessorMixin):
    image_token = "<|image_pad|>"
    video_token = "<|video_pad|>"

    # Verbatim from huggingface/transformers@0117d5f78564b4f03ed18e4dcffa7a8d2a45f831
    # src/transformers/models/qwen2_vl/processing_qwen2_vl.py
    def replace_video_token(self, video_inputs: dict, video_idx: int, **kwargs) -> str:
        merge_length = self.video_processor.merge_size**2
        num_video_tokens = video_inputs["video_grid_thw"][video_idx].prod() // merge_length
        return self.video_token * num_video_tokens

    def replace_image_token(self, image_inputs: dict, image_idx: int, **kwargs) -> str:
        merge_length = self.image_processor.merge_size**2
        num_image_tokens = image_inputs["image_grid_thw"][image_idx].prod() // merge_length
        return self.image_token * num_image_tokens

    def __call__(self, images=None, text=None, videos=None, **kwargs):
        """SHIM for ProcessorMixin.__call__ in that version: each placeholder, in order, becomes replace_*_token's text."""
        image_inputs = self.image_processor(images=images) if images is not None else {}
        video_inputs = self.video_processor(videos=videos) if videos is not None else {}
        out, i_img, i_vid, i = "", 0, 0, 0
        while i < len(text):
            if text.startswith(self.image_token, i):
                out += self.replace_image_token(image_inputs, i_img)
                i_img, i = i_img + 1, i + len(self.image_token)
            elif text.startswith(self.video_token, i):
                out += self.replace_video_token(video_inputs, i_vid)
                i_vid, i = i_vid + 1, i + len(self.video_token)
            else:
                out, i = out + text[i], i + 1
        return {**self.tokenizer([out]), **image_inputs, **video_inputs}


class Qwen2VLModel:
    def __init__(self, config):
        self.config = config

    # Verbatim from huggingface/transformers@00b676f8f0489b88652a31d70751cc540dd06305
    # src/transformers/models/qwen2_vl/modeling_qwen2_vl.py (Qwen2VLModel.get_rope_index; docstring shortened)
    def get_rope_index(
        self,
        input_ids: Optional[torch.LongTensor] = None,
        image_grid_thw: Optional[torch.LongTensor] = None,
        video_grid_thw: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Calculate the 3D rope index based on image and video's temporal, height and width in LLM.
        """
        spatial_merge_size = self.config.vision_config.spatial_merge_size
        image_token_id = self.config.image_token_id
        video_token_id = self.config.video_token_id
        vision_start_token_id = self.config.vision_start_token_id
        mrope_position_deltas = []
        if input_ids is not None and (image_grid_thw is not None or video_grid_thw is not None):
            total_input_ids = input_ids
            if attention_mask is None:
                attention_mask = torch.ones_like(total_input_ids)
            position_ids = torch.ones(
                3, input_ids.shape[0], input_ids.shape[1], dtype=input_ids.dtype, device=input_ids.device
            )
            image_index, video_index = 0, 0
            for i, input_ids in enumerate(total_input_ids):
                input_ids = input_ids[attention_mask[i].to(input_ids.device) == 1]
                image_nums, video_nums = 0, 0
                vision_start_indices = torch.argwhere(input_ids == vision_start_token_id).squeeze(1)
                vision_tokens = input_ids[vision_start_indices + 1]
                image_nums = (vision_tokens == image_token_id).sum()
                video_nums = (vision_tokens == video_token_id).sum()
                input_tokens = input_ids.tolist()
                llm_pos_ids_list: list = []
                st = 0
                remain_images, remain_videos = image_nums, video_nums
                for _ in range(image_nums + video_nums):
                    if image_token_id in input_tokens and remain_images > 0:
                        ed_image = input_tokens.index(image_token_id, st)
                    else:
                        ed_image = len(input_tokens) + 1
                    if video_token_id in input_tokens and remain_videos > 0:
                        ed_video = input_tokens.index(video_token_id, st)
                    else:
                        ed_video = len(input_tokens) + 1
                    if ed_image < ed_video:
                        t, h, w = (
                            image_grid_thw[image_index][0],
                            image_grid_thw[image_index][1],
                            image_grid_thw[image_index][2],
                        )
                        image_index += 1
                        remain_images -= 1
                        ed = ed_image
                    else:
                        t, h, w = (
                            video_grid_thw[video_index][0],
                            video_grid_thw[video_index][1],
                            video_grid_thw[video_index][2],
                        )
                        video_index += 1
                        remain_videos -= 1
                        ed = ed_video
                    llm_grid_t, llm_grid_h, llm_grid_w = (
                        t.item(),
                        h.item() // spatial_merge_size,
                        w.item() // spatial_merge_size,
                    )
                    text_len = ed - st

                    st_idx = llm_pos_ids_list[-1].max() + 1 if len(llm_pos_ids_list) > 0 else 0
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)

                    t_index = torch.arange(llm_grid_t).view(-1, 1).expand(-1, llm_grid_h * llm_grid_w).flatten()
                    h_index = torch.arange(llm_grid_h).view(1, -1, 1).expand(llm_grid_t, -1, llm_grid_w).flatten()
                    w_index = torch.arange(llm_grid_w).view(1, 1, -1).expand(llm_grid_t, llm_grid_h, -1).flatten()
                    llm_pos_ids_list.append(torch.stack([t_index, h_index, w_index]) + text_len + st_idx)
                    st = ed + llm_grid_t * llm_grid_h * llm_grid_w

                if st < len(input_tokens):
                    st_idx = llm_pos_ids_list[-1].max() + 1 if len(llm_pos_ids_list) > 0 else 0
                    text_len = len(input_tokens) - st
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)

                llm_positions = torch.cat(llm_pos_ids_list, dim=1).reshape(3, -1)
                position_ids[..., i, attention_mask[i] == 1] = llm_positions.to(position_ids.device)
                mrope_position_deltas.append(llm_positions.max() + 1 - len(total_input_ids[i]))
            mrope_position_deltas = torch.tensor(mrope_position_deltas, device=input_ids.device).unsqueeze(1)
            return position_ids, mrope_position_deltas
        else:
            if attention_mask is not None:
                position_ids = attention_mask.long().cumsum(-1) - 1
                position_ids.masked_fill_(attention_mask == 0, 1)
                position_ids = position_ids.unsqueeze(0).expand(3, -1, -1).to(attention_mask.device)
                max_position_ids = position_ids.max(0, keepdim=False)[0].max(-1, keepdim=True)[0]
                mrope_position_deltas = max_position_ids + 1 - attention_mask.shape[-1]
            else:
                position_ids = (
                    torch.arange(input_ids.shape[1], device=input_ids.device)
                    .view(1, 1, -1)
                    .expand(3, input_ids.shape[0], -1)
                )
                mrope_position_deltas = torch.zeros(
                    [input_ids.shape[0], 1],
                    device=input_ids.device,
                    dtype=input_ids.dtype,
                )

            return position_ids, mrope_position_deltas


# ---------------------------------------------------------------------------- Qwen2.5-VL (verbatim)


class Qwen2_5_VLProcessor(ShimProcessorMixin):
    # Verbatim from huggingface/transformers@00368c17bfb3f240a56108c796cb80a04cb0448c
    # src/transformers/models/qwen2_5_vl/processing_qwen2_5_vl.py (__init__ and __call__; docstring dropped)
    def __init__(self, image_processor=None, tokenizer=None, video_processor=None, chat_template=None, **kwargs):
        self.image_token = "<|image_pad|>" if not hasattr(tokenizer, "image_token") else tokenizer.image_token
        self.video_token = "<|video_pad|>" if not hasattr(tokenizer, "video_token") else tokenizer.video_token
        self.image_token_id = (
            tokenizer.image_token_id
            if getattr(tokenizer, "image_token_id", None)
            else tokenizer.convert_tokens_to_ids(self.image_token)
        )
        self.video_token_id = (
            tokenizer.video_token_id
            if getattr(tokenizer, "video_token_id", None)
            else tokenizer.convert_tokens_to_ids(self.video_token)
        )
        super().__init__(image_processor, tokenizer, video_processor, chat_template=chat_template)

    def __call__(
        self,
        images: ImageInput = None,
        text: Union[TextInput, PreTokenizedInput, List[TextInput], List[PreTokenizedInput]] = None,
        videos: VideoInput = None,
        **kwargs: Unpack[Qwen2_5_VLProcessorKwargs],
    ) -> BatchFeature:
        output_kwargs = self._merge_kwargs(
            Qwen2_5_VLProcessorKwargs,
            tokenizer_init_kwargs=self.tokenizer.init_kwargs,
            **kwargs,
        )

        image_inputs = videos_inputs = {}
        if images is not None:
            image_inputs = self.image_processor(images=images, **output_kwargs["images_kwargs"])
            image_grid_thw = image_inputs["image_grid_thw"]

        if videos is not None:
            videos_inputs = self.video_processor(videos=videos, **output_kwargs["videos_kwargs"])
            video_grid_thw = videos_inputs["video_grid_thw"]

            fps = output_kwargs["videos_kwargs"].pop("fps", 2.0)
            if isinstance(fps, (int, float)):
                second_per_grid_ts = [self.video_processor.temporal_patch_size / fps] * len(video_grid_thw)
            elif hasattr(fps, "__len__") and len(fps) == len(video_grid_thw):
                second_per_grid_ts = [self.video_processor.temporal_patch_size / tmp for tmp in fps]
            else:
                raise ValueError(
                    f"The length of fps ({len(fps) if hasattr(fps, '__len__') else fps}) must be equal to the length of video_grid_thw ({len(video_grid_thw)}) or fps should be a single number."
                )
            videos_inputs.update({"second_per_grid_ts": second_per_grid_ts})

        if not isinstance(text, list):
            text = [text]

        text = text.copy()  # below lines change text in-place
        if images is not None:
            merge_length = self.image_processor.merge_size**2
            index = 0
            for i in range(len(text)):
                while self.image_token in text[i]:
                    num_image_tokens = image_grid_thw[index].prod() // merge_length
                    text[i] = text[i].replace(self.image_token, "<|placeholder|>" * num_image_tokens, 1)
                    index += 1
                text[i] = text[i].replace("<|placeholder|>", self.image_token)

        if videos is not None:
            merge_length = self.video_processor.merge_size**2
            index = 0
            for i in range(len(text)):
                while self.video_token in text[i]:
                    num_video_tokens = video_grid_thw[index].prod() // merge_length
                    text[i] = text[i].replace(self.video_token, "<|placeholder|>" * num_video_tokens, 1)
                    index += 1
                text[i] = text[i].replace("<|placeholder|>", self.video_token)

        return_tensors = output_kwargs["text_kwargs"].pop("return_tensors", None)
        text_inputs = self.tokenizer(text, **output_kwargs["text_kwargs"])
        self._check_special_mm_tokens(text, text_inputs, modalities=["image", "video"])

        return BatchFeature(data={**text_inputs, **image_inputs, **videos_inputs}, tensor_type=return_tensors)


class Qwen2_5_VLModel:
    def __init__(self, config):
        self.config = config

    # Verbatim from huggingface/transformers@00b676f8f0489b88652a31d70751cc540dd06305
    # src/transformers/models/qwen2_5_vl/modeling_qwen2_5_vl.py (Qwen2_5_VLModel.get_rope_index; docstring shortened)
    def get_rope_index(
        self,
        input_ids: Optional[torch.LongTensor] = None,
        image_grid_thw: Optional[torch.LongTensor] = None,
        video_grid_thw: Optional[torch.LongTensor] = None,
        second_per_grid_ts: Optional[torch.Tensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Calculate the 3D rope index based on image and video's temporal, height and width in LLM.
        """
        spatial_merge_size = self.config.vision_config.spatial_merge_size
        image_token_id = self.config.image_token_id
        video_token_id = self.config.video_token_id
        vision_start_token_id = self.config.vision_start_token_id
        mrope_position_deltas = []
        if input_ids is not None and (image_grid_thw is not None or video_grid_thw is not None):
            total_input_ids = input_ids
            if attention_mask is None:
                attention_mask = torch.ones_like(total_input_ids)
            position_ids = torch.ones(
                3,
                input_ids.shape[0],
                input_ids.shape[1],
                dtype=input_ids.dtype,
                device=input_ids.device,
            )
            image_index, video_index = 0, 0
            attention_mask = attention_mask.to(total_input_ids.device)
            for i, input_ids in enumerate(total_input_ids):
                input_ids = input_ids[attention_mask[i] == 1]
                image_nums, video_nums = 0, 0
                vision_start_indices = torch.argwhere(input_ids == vision_start_token_id).squeeze(1)
                vision_tokens = input_ids[vision_start_indices + 1]
                image_nums = (vision_tokens == image_token_id).sum()
                video_nums = (vision_tokens == video_token_id).sum()
                input_tokens = input_ids.tolist()
                llm_pos_ids_list: list = []
                st = 0
                remain_images, remain_videos = image_nums, video_nums
                for _ in range(image_nums + video_nums):
                    if image_token_id in input_tokens and remain_images > 0:
                        ed_image = input_tokens.index(image_token_id, st)
                    else:
                        ed_image = len(input_tokens) + 1
                    if video_token_id in input_tokens and remain_videos > 0:
                        ed_video = input_tokens.index(video_token_id, st)
                    else:
                        ed_video = len(input_tokens) + 1
                    if ed_image < ed_video:
                        t, h, w = (
                            image_grid_thw[image_index][0],
                            image_grid_thw[image_index][1],
                            image_grid_thw[image_index][2],
                        )
                        second_per_grid_t = 0
                        image_index += 1
                        remain_images -= 1
                        ed = ed_image

                    else:
                        t, h, w = (
                            video_grid_thw[video_index][0],
                            video_grid_thw[video_index][1],
                            video_grid_thw[video_index][2],
                        )
                        if second_per_grid_ts is not None:
                            second_per_grid_t = second_per_grid_ts[video_index]
                        else:
                            second_per_grid_t = 1.0
                        video_index += 1
                        remain_videos -= 1
                        ed = ed_video
                    llm_grid_t, llm_grid_h, llm_grid_w = (
                        t.item(),
                        h.item() // spatial_merge_size,
                        w.item() // spatial_merge_size,
                    )
                    text_len = ed - st

                    st_idx = llm_pos_ids_list[-1].max() + 1 if len(llm_pos_ids_list) > 0 else 0
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)

                    range_tensor = torch.arange(llm_grid_t).view(-1, 1)
                    expanded_range = range_tensor.expand(-1, llm_grid_h * llm_grid_w)

                    ## normalize type, send to device.
                    second_per_grid_t = torch.as_tensor(
                        second_per_grid_t, dtype=range_tensor.dtype, device=range_tensor.device
                    )

                    time_tensor = expanded_range * second_per_grid_t * self.config.vision_config.tokens_per_second

                    time_tensor_long = time_tensor.long()
                    t_index = time_tensor_long.flatten()

                    h_index = torch.arange(llm_grid_h).view(1, -1, 1).expand(llm_grid_t, -1, llm_grid_w).flatten()
                    w_index = torch.arange(llm_grid_w).view(1, 1, -1).expand(llm_grid_t, llm_grid_h, -1).flatten()
                    llm_pos_ids_list.append(torch.stack([t_index, h_index, w_index]) + text_len + st_idx)
                    st = ed + llm_grid_t * llm_grid_h * llm_grid_w

                if st < len(input_tokens):
                    st_idx = llm_pos_ids_list[-1].max() + 1 if len(llm_pos_ids_list) > 0 else 0
                    text_len = len(input_tokens) - st
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)

                llm_positions = torch.cat(llm_pos_ids_list, dim=1).reshape(3, -1)
                position_ids[..., i, attention_mask[i] == 1] = llm_positions.to(position_ids.device)
                mrope_position_deltas.append(llm_positions.max() + 1 - len(total_input_ids[i]))
            mrope_position_deltas = torch.tensor(mrope_position_deltas, device=input_ids.device).unsqueeze(1)
            return position_ids, mrope_position_deltas
        else:
            if attention_mask is not None:
                position_ids = attention_mask.long().cumsum(-1) - 1
                position_ids.masked_fill_(attention_mask == 0, 1)
                position_ids = position_ids.unsqueeze(0).expand(3, -1, -1).to(attention_mask.device)
                max_position_ids = position_ids.max(0, keepdim=False)[0].max(-1, keepdim=True)[0]
                mrope_position_deltas = max_position_ids + 1 - attention_mask.shape[-1]
            else:
                position_ids = (
                    torch.arange(input_ids.shape[1], device=input_ids.device)
                    .view(1, 1, -1)
                    .expand(3, input_ids.shape[0], -1)
                )
                mrope_position_deltas = torch.zeros(
                    [input_ids.shape[0], 1],
                    device=input_ids.device,
                    dtype=input_ids.dtype,
                )

            return position_ids, mrope_position_deltas


# ------------------------------------------------------------------------------ Qwen3-VL (verbatim)


class Qwen3VLProcessor(ShimProcessorMixin):
    # Verbatim from huggingface/transformers@e1b551679e267be053b45581cbabd028a14defd2
    # src/transformers/models/qwen3_vl/processing_qwen3_vl.py (__init__, __call__, _calculate_timestamps; docstring dropped)
    def __init__(self, image_processor=None, tokenizer=None, video_processor=None, chat_template=None, **kwargs):
        super().__init__(image_processor, tokenizer, video_processor, chat_template=chat_template)
        self.image_token = "<|image_pad|>" if not hasattr(tokenizer, "image_token") else tokenizer.image_token
        self.video_token = "<|video_pad|>" if not hasattr(tokenizer, "video_token") else tokenizer.video_token
        self.image_token_id = (
            tokenizer.image_token_id
            if getattr(tokenizer, "image_token_id", None)
            else tokenizer.convert_tokens_to_ids(self.image_token)
        )
        self.video_token_id = (
            tokenizer.video_token_id
            if getattr(tokenizer, "video_token_id", None)
            else tokenizer.convert_tokens_to_ids(self.video_token)
        )
        self.vision_start_token = (
            "<|vision_start|>" if not hasattr(tokenizer, "vision_start_token") else tokenizer.vision_start_token
        )
        self.vision_end_token = (
            "<|vision_end|>" if not hasattr(tokenizer, "vision_end_token") else tokenizer.vision_end_token
        )
        self.vision_start_token_id = (
            tokenizer.vision_start_token_id
            if getattr(tokenizer, "vision_start_token_id", None)
            else tokenizer.convert_tokens_to_ids(self.vision_start_token)
        )
        self.vision_end_token_id = (
            tokenizer.vision_end_token_id
            if getattr(tokenizer, "vision_end_token_id", None)
            else tokenizer.convert_tokens_to_ids(self.vision_end_token)
        )

    def __call__(
        self,
        images: ImageInput = None,
        text: Union[TextInput, PreTokenizedInput, list[TextInput], list[PreTokenizedInput]] = None,
        videos: VideoInput = None,
        **kwargs: Unpack[Qwen3VLProcessorKwargs],
    ) -> BatchFeature:
        output_kwargs = self._merge_kwargs(
            Qwen3VLProcessorKwargs,
            tokenizer_init_kwargs=self.tokenizer.init_kwargs,
            **kwargs,
        )
        if images is not None:
            image_inputs = self.image_processor(images=images, **output_kwargs["images_kwargs"])
            image_grid_thw = image_inputs["image_grid_thw"]
        else:
            image_inputs = {}
            image_grid_thw = None

        if videos is not None:
            videos_inputs = self.video_processor(videos=videos, **output_kwargs["videos_kwargs"])
            video_grid_thw = videos_inputs["video_grid_thw"]
            # If user has not requested video metadata, pop it
            if "return_metadata" not in kwargs:
                video_metadata = videos_inputs.pop("video_metadata")
            else:
                video_metadata = videos_inputs["video_metadata"]
            video_grid_thw = videos_inputs["video_grid_thw"]
        else:
            videos_inputs = {}
            video_grid_thw = None

        if not isinstance(text, list):
            text = [text]

        text = text.copy()  # below lines change text in-place
        if image_grid_thw is not None:
            merge_length = self.image_processor.merge_size**2
            index = 0
            for i in range(len(text)):
                while self.image_token in text[i]:
                    num_image_tokens = image_grid_thw[index].prod() // merge_length
                    text[i] = text[i].replace(self.image_token, "<|placeholder|>" * num_image_tokens, 1)
                    index += 1
                text[i] = text[i].replace("<|placeholder|>", self.image_token)

        if video_grid_thw is not None:
            merge_length = self.video_processor.merge_size**2
            index = 0
            for i in range(len(text)):
                while self.video_token in text[i]:
                    metadata = video_metadata[index]
                    if metadata.fps is None:
                        logger.warning_once(
                            "Qwen3VL requires frame timestamps to construct prompts, but the `fps` of the input video could not be inferred. "
                            "Probably `video_metadata` was missing from inputs and you passed pre-sampled frames. "
                            "Defaulting to `fps=24`. Please provide `video_metadata` for more accurate results."
                        )
                        metadata.fps = 24 if metadata.fps is None else metadata.fps

                    # if timestamps are not provided, calculate them
                    curr_timestamp = self._calculate_timestamps(
                        metadata.frames_indices,
                        metadata.fps,
                        self.video_processor.merge_size,
                    )

                    video_placeholder = ""
                    frame_seqlen = video_grid_thw[index][1:].prod() // merge_length
                    for frame_idx in range(video_grid_thw[index][0]):
                        curr_time = curr_timestamp[frame_idx]
                        video_placeholder += f"<{curr_time:.1f} seconds>"
                        video_placeholder += (
                            self.vision_start_token + "<|placeholder|>" * frame_seqlen + self.vision_end_token
                        )
                    if f"{self.vision_start_token}{self.video_token}{self.vision_end_token}" in text[i]:
                        text[i] = text[i].replace(
                            f"{self.vision_start_token}{self.video_token}{self.vision_end_token}", video_placeholder, 1
                        )
                    else:
                        # vllm may input video token directly
                        text[i] = text[i].replace(self.video_token, video_placeholder, 1)
                    index += 1

                text[i] = text[i].replace("<|placeholder|>", self.video_token)

        return_tensors = output_kwargs["text_kwargs"].pop("return_tensors", None)
        return_mm_token_type_ids = output_kwargs["text_kwargs"].pop("return_mm_token_type_ids", None)
        text_inputs = self.tokenizer(text, **output_kwargs["text_kwargs"])
        self._check_special_mm_tokens(text, text_inputs, modalities=["image", "video"])

        if return_mm_token_type_ids:
            array_ids = np.array(text_inputs["input_ids"])
            mm_token_type_ids = np.zeros_like(text_inputs["input_ids"])
            mm_token_type_ids[array_ids == self.image_token_id] = 1
            text_inputs["mm_token_type_ids"] = mm_token_type_ids.tolist()

        return BatchFeature(data={**text_inputs, **image_inputs, **videos_inputs}, tensor_type=return_tensors)

    def _calculate_timestamps(self, indices: Union[list[int], np.ndarray], video_fps: float, merge_size: int = 2):
        if not isinstance(indices, list):
            indices = indices.tolist()
        if len(indices) % merge_size != 0:
            indices.extend(indices[-1] for _ in range(merge_size - len(indices) % merge_size))
        timestamps = [idx / video_fps for idx in indices]
        # @JJJYmmm frames are merged by self.merge_size, \
        # so we need to average the timestamps between the first/last frame within the temporal patch
        timestamps = [
            (timestamps[i] + timestamps[i + merge_size - 1]) / 2 for i in range(0, len(timestamps), merge_size)
        ]
        return timestamps


class Qwen3VLModel:
    def __init__(self, config):
        self.config = config

    # Verbatim from huggingface/transformers@00709b862bb8f14a5435bb7195592579168496e4
    # src/transformers/models/qwen3_vl/modeling_qwen3_vl.py (Qwen3VLModel.get_rope_index)
    def get_rope_index(
        self,
        input_ids: Optional[torch.LongTensor] = None,
        image_grid_thw: Optional[torch.LongTensor] = None,
        video_grid_thw: Optional[torch.LongTensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Different from the original implementation, Qwen3VL use timestamps rather than absolute time position ids."""

        # Since we use timestamps to seperate videos, like <t1> <vision_start> <frame1> <vision_end> <t2> <vision_start> <frame2> <vision_end>, the video_grid_thw should also be split
        if video_grid_thw is not None:
            video_grid_thw = torch.repeat_interleave(video_grid_thw, video_grid_thw[:, 0], dim=0)
            video_grid_thw[:, 0] = 1

        spatial_merge_size = self.config.vision_config.spatial_merge_size
        image_token_id = self.config.image_token_id
        video_token_id = self.config.video_token_id
        vision_start_token_id = self.config.vision_start_token_id
        mrope_position_deltas = []
        if input_ids is not None and (image_grid_thw is not None or video_grid_thw is not None):
            total_input_ids = input_ids
            if attention_mask is None:
                attention_mask = torch.ones_like(total_input_ids)
            position_ids = torch.ones(
                3,
                input_ids.shape[0],
                input_ids.shape[1],
                dtype=input_ids.dtype,
                device=input_ids.device,
            )
            image_index, video_index = 0, 0
            attention_mask = attention_mask.to(total_input_ids.device)
            for i, input_ids in enumerate(total_input_ids):
                input_ids = input_ids[attention_mask[i] == 1]
                image_nums, video_nums = 0, 0
                vision_start_indices = torch.argwhere(input_ids == vision_start_token_id).squeeze(1)
                vision_tokens = input_ids[vision_start_indices + 1]
                image_nums = (vision_tokens == image_token_id).sum()
                video_nums = (vision_tokens == video_token_id).sum()
                input_tokens = input_ids.tolist()
                llm_pos_ids_list: list = []
                st = 0
                remain_images, remain_videos = image_nums, video_nums
                for _ in range(image_nums + video_nums):
                    if image_token_id in input_tokens and remain_images > 0:
                        ed_image = input_tokens.index(image_token_id, st)
                    else:
                        ed_image = len(input_tokens) + 1
                    if video_token_id in input_tokens and remain_videos > 0:
                        ed_video = input_tokens.index(video_token_id, st)
                    else:
                        ed_video = len(input_tokens) + 1
                    if ed_image < ed_video:
                        t, h, w = (
                            image_grid_thw[image_index][0],
                            image_grid_thw[image_index][1],
                            image_grid_thw[image_index][2],
                        )
                        image_index += 1
                        remain_images -= 1
                        ed = ed_image

                    else:
                        t, h, w = (
                            video_grid_thw[video_index][0],
                            video_grid_thw[video_index][1],
                            video_grid_thw[video_index][2],
                        )
                        video_index += 1
                        remain_videos -= 1
                        ed = ed_video
                    llm_grid_t, llm_grid_h, llm_grid_w = (
                        t.item(),
                        h.item() // spatial_merge_size,
                        w.item() // spatial_merge_size,
                    )
                    text_len = ed - st

                    st_idx = llm_pos_ids_list[-1].max() + 1 if len(llm_pos_ids_list) > 0 else 0
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)

                    # t_index is always 0 because llm_grid_t is always 1 (we use timestamps to encode the temporal information for videos)
                    t_index = torch.arange(llm_grid_t).view(-1, 1).expand(-1, llm_grid_h * llm_grid_w).flatten()
                    h_index = torch.arange(llm_grid_h).view(1, -1, 1).expand(llm_grid_t, -1, llm_grid_w).flatten()
                    w_index = torch.arange(llm_grid_w).view(1, 1, -1).expand(llm_grid_t, llm_grid_h, -1).flatten()
                    llm_pos_ids_list.append(torch.stack([t_index, h_index, w_index]) + text_len + st_idx)
                    st = ed + llm_grid_t * llm_grid_h * llm_grid_w

                if st < len(input_tokens):
                    st_idx = llm_pos_ids_list[-1].max() + 1 if len(llm_pos_ids_list) > 0 else 0
                    text_len = len(input_tokens) - st
                    llm_pos_ids_list.append(torch.arange(text_len).view(1, -1).expand(3, -1) + st_idx)

                llm_positions = torch.cat(llm_pos_ids_list, dim=1).reshape(3, -1)
                position_ids[..., i, attention_mask[i] == 1] = llm_positions.to(position_ids.device)
                mrope_position_deltas.append(llm_positions.max() + 1 - len(total_input_ids[i]))
            mrope_position_deltas = torch.tensor(mrope_position_deltas, device=input_ids.device).unsqueeze(1)
            return position_ids, mrope_position_deltas
        else:
            if attention_mask is not None:
                position_ids = attention_mask.long().cumsum(-1) - 1
                position_ids.masked_fill_(attention_mask == 0, 1)
                position_ids = position_ids.unsqueeze(0).expand(3, -1, -1).to(attention_mask.device)
                max_position_ids = position_ids.max(0, keepdim=False)[0].max(-1, keepdim=True)[0]
                mrope_position_deltas = max_position_ids + 1 - attention_mask.shape[-1]
            else:
                position_ids = (
                    torch.arange(input_ids.shape[1], device=input_ids.device)
                    .view(1, 1, -1)
                    .expand(3, input_ids.shape[0], -1)
                )
                mrope_position_deltas = torch.zeros(
                    [input_ids.shape[0], 1],
                    device=input_ids.device,
                    dtype=input_ids.dtype,
                )

            return position_ids, mrope_position_deltas


# ------------------------------------------------------------------------------------------- CASES

VIDEO = "<|vision_start|><|video_pad|><|vision_end|>"
IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"
PRE = "<|im_start|>user\n"
POST = "What happens?<|im_end|>\n<|im_start|>assistant\n"


def video(num_frames, grid_h, grid_w, fps, frames_indices=None):
    """A pixel-less video: frames sampled at `fps` (Qwen2/2.5-VL), or at the given source indices of a
    video whose rate is `fps` (Qwen3-VL metadata)."""
    return {"num_frames": num_frames, "grid_h": grid_h, "grid_w": grid_w, "fps": fps,
            "frames_indices": frames_indices if frames_indices is not None else list(range(num_frames))}


CASES = [
    # Qwen2-VL: consecutive temporal steps, no time
    {"family": "qwen2vl", "name": "image 8x12 patches", "prompt": PRE + IMAGE + POST, "images": [{"grid_h": 8, "grid_w": 12}]},
    {"family": "qwen2vl", "name": "4 frames", "prompt": PRE + VIDEO + POST, "videos": [video(4, 4, 6, 2.0)]},
    {"family": "qwen2vl", "name": "5 frames (last repeated), tall", "prompt": PRE + VIDEO + POST, "videos": [video(5, 8, 4, 1.0)]},
    {"family": "qwen2vl", "name": "two segments", "prompt": PRE + VIDEO + "then" + VIDEO + POST, "videos": [video(4, 4, 4, 2.0), video(2, 4, 6, 2.0)]},
    # Qwen2.5-VL: t = k * second_per_grid_t * tokens_per_second (second_per_grid_t = 2 / fps)
    {"family": "qwen25vl", "name": "6 frames at 2 fps", "prompt": PRE + VIDEO + POST, "videos": [video(6, 4, 6, 2.0)], "fps": 2.0},
    {"family": "qwen25vl", "name": "4 frames at 1 fps", "prompt": PRE + VIDEO + POST, "videos": [video(4, 4, 4, 1.0)], "fps": 1.0},
    {"family": "qwen25vl", "name": "5 frames at 0.5 fps", "prompt": PRE + VIDEO + POST, "videos": [video(5, 6, 4, 0.5)], "fps": 0.5},
    {"family": "qwen25vl", "name": "two segments, 2 fps and 2/3 fps", "prompt": PRE + VIDEO + "then" + VIDEO + POST,
     "videos": [video(4, 4, 4, 2.0), video(6, 4, 6, 2.0 / 3.0)], "fps": [2.0, 2.0 / 3.0]},
    {"family": "qwen25vl", "name": "image 8x12 patches", "prompt": PRE + IMAGE + POST, "images": [{"grid_h": 8, "grid_w": 12}]},
    # second_per_grid_t = 0.5: this get_rope_index casts it to an integer (0) before the product; vLLM and the
    # docstring's own example keep it a float. Recorded, not used as an equality golden (see the test).
    {"family": "qwen25vl", "name": "6 frames at 4 fps (int cast)", "prompt": PRE + VIDEO + POST, "videos": [video(6, 4, 4, 4.0)], "fps": 4.0,
     "divergence": "get_rope_index at this commit casts second_per_grid_t = 0.5 to int64 (0): every frame pair at t = 0"},
    # Qwen3-VL: "<t seconds>" before each frame pair, each pair a one-step grid
    {"family": "qwen3vl", "name": "4 frames of a 30 fps video (0.25 s tie)", "prompt": PRE + VIDEO + POST,
     "videos": [video(4, 4, 6, 30.0, [0, 15, 30, 45])]},
    {"family": "qwen3vl", "name": "5 frames of a 24 fps video (odd: last repeated)", "prompt": PRE + VIDEO + POST,
     "videos": [video(5, 6, 4, 24.0, [0, 12, 24, 36, 48])]},
    {"family": "qwen3vl", "name": "uneven frames of a 29.97 fps video", "prompt": PRE + VIDEO + POST,
     "videos": [video(6, 4, 4, 29.97, [3, 10, 50, 51, 90, 2000])]},
    {"family": "qwen3vl", "name": "two segments", "prompt": PRE + VIDEO + "then" + VIDEO + POST,
     "videos": [video(2, 4, 4, 25.0, [0, 25]), video(4, 4, 6, 25.0, [1500, 1525, 1550, 1575])]},
    {"family": "qwen3vl", "name": "image 8x12 patches", "prompt": PRE + IMAGE + POST, "images": [{"grid_h": 8, "grid_w": 12}]},
]


def run(case):
    fam = case["family"]
    tok, vp, ip = ShimTokenizer(), ShimVideoProcessor(), ShimImageProcessor()
    images, videos = case.get("images"), case.get("videos")
    if fam == "qwen2vl":
        out = Qwen2VLProcessor(ip, tok, vp)(images=images, text=case["prompt"], videos=videos)
        model, extra = Qwen2VLModel(config()), {}
    elif fam == "qwen25vl":
        kwargs = {"videos_kwargs": {"fps": case["fps"]}} if "fps" in case else {}
        out = Qwen2_5_VLProcessor(ip, tok, vp)(images=images, text=case["prompt"], videos=videos, **kwargs)
        model = Qwen2_5_VLModel(config(tokens_per_second=2))  # Qwen2.5-VL's vision_config.tokens_per_second
        extra = {"second_per_grid_ts": torch.tensor(out["second_per_grid_ts"])} if "second_per_grid_ts" in out else {}
    else:
        out = Qwen3VLProcessor(ip, tok, vp)(images=images, text=case["prompt"], videos=videos)
        model, extra = Qwen3VLModel(config()), {}
    ids = torch.tensor(out["input_ids"])
    pos, _ = model.get_rope_index(ids, out.get("image_grid_thw"), out.get("video_grid_thw"), **extra)
    golden = {k: case[k] for k in ("family", "name", "prompt") if k in case}
    if images:
        golden["images"] = images
    if videos:
        golden["videos"] = [{k: v[k] for k in ("num_frames", "grid_h", "grid_w", "fps", "frames_indices")} for v in videos]
    if "divergence" in case:
        golden["divergence"] = case["divergence"]
    golden["grid_thw"] = [g.tolist() for g in (out.get("image_grid_thw"), out.get("video_grid_thw")) if g is not None]
    if "second_per_grid_ts" in out:
        golden["second_per_grid_ts"] = out["second_per_grid_ts"]
    golden["text"] = tok.last_text[0]
    golden["position_ids"] = pos[:, 0, :].tolist()
    return golden


if __name__ == "__main__":
    doc = {
        "generator": "python/goldens/qwen_rope.py",
        "source": "huggingface/transformers: qwen2_vl modeling @00b676f8, processing @0117d5f7, video processing @000513e6; qwen2_5_vl modeling @00b676f8, processing @00368c17; "
                  "qwen3_vl modeling @00709b86, processing @e1b55167",
        "torch": torch.__version__,
        "cases": [run(c) for c in CASES],
    }
    json.dump(doc, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
