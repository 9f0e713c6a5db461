"""Checking a workflow against /object_info before it is queued (Decision 10), on the replies
captured from ComfyUI (tests/engine/comfyui/captured.py)."""
from __future__ import annotations

from typing import Any

import pytest

from studio.engine.comfyui.validation import (
    WorkflowInvalid,
    check,
    choices,
    combo_options,
    custom_pack,
    model_input,
    validate,
)
from studio.engine.errors import InvalidInput
from tests.engine.comfyui.captured import CONTROLNETS, object_info, txt2img
from tests.fakes.comfyui_nodes import pack_nodes


def messages(graph: dict[str, Any], info: dict[str, Any] | None = None) -> list[str]:
    return [p.message for p in validate(graph, info or object_info())]


def test_combo_options_reads_both_shapes_comfyui_sends() -> None:
    info = object_info()
    assert combo_options(info["KSampler"]["input"]["required"]["scheduler"])[:2] == [
        "simple", "sgm_uniform"]
    assert combo_options(info["SaveWEBM"]["input"]["required"]["codec"]) == ["vp9", "av1"]
    assert combo_options(info["ControlNetLoader"]["input"]["required"]["control_net_name"]) == (
        CONTROLNETS)
    assert combo_options(info["KSampler"]["input"]["required"]["steps"]) is None
    assert choices(info, "SaveVideo", "format") == ["auto", "mp4"]
    assert choices(info, "NoSuchNode", "x") is None


def test_captured_txt2img_graph_passes_once_its_models_are_installed() -> None:
    assert validate(txt2img(), object_info()) == []
    check(txt2img(), object_info())  # does not raise


def test_missing_lora_says_which_and_lists_what_comfyui_has_shortened() -> None:
    loras = [f"{c}.safetensors" for c in "abcdefgh"] + ["mia_v2.safetensors"]
    graph = txt2img()
    graph["10"]["inputs"]["lora_name"] = "mia_v1.safetensors"
    problems = validate(graph, object_info(loras=loras))
    assert [(p.kind, p.node, p.input) for p in problems] == [("missing_model", "10", "lora_name")]
    # The near match comes first so the likely mistake is visible.
    assert problems[0].message == (
        "The LoRA 'mia_v1.safetensors' is not in ComfyUI's loras folder; it has: "
        "mia_v2.safetensors, a.safetensors, b.safetensors, c.safetensors, d.safetensors "
        "(and 4 more).")


def test_missing_checkpoint_in_an_empty_folder_is_said_plainly() -> None:
    # The same graph and server state as POST_prompt_txt2img_lora_no_models_installed.json.
    assert messages(txt2img(), object_info(checkpoints=[], loras=[])) == [
        "The checkpoint 'v1-5-pruned-emaonly.safetensors' is not in ComfyUI's checkpoints "
        "folder, which is empty.",
        "The LoRA 'my_style.safetensors' is not in ComfyUI's loras folder, which is empty."]


def test_check_names_every_problem_in_one_line_and_keeps_them_apart() -> None:
    with pytest.raises(InvalidInput) as caught:
        check(txt2img(), object_info(checkpoints=["other.safetensors"], loras=[]))
    assert str(caught.value) == (
        "2 problems: (1) The checkpoint 'v1-5-pruned-emaonly.safetensors' is not in ComfyUI's "
        "checkpoints folder; it has: other.safetensors. (2) The LoRA 'my_style.safetensors' is "
        "not in ComfyUI's loras folder, which is empty.")
    assert isinstance(caught.value, WorkflowInvalid)
    assert [p.input for p in caught.value.problems] == ["ckpt_name", "lora_name"]


def test_check_names_all_three_problems_at_once() -> None:
    graph = txt2img()
    graph["3"]["inputs"]["sampler_name"] = "eulr"
    with pytest.raises(WorkflowInvalid) as caught:
        check(graph, object_info(checkpoints=["other.safetensors"], loras=["mia.safetensors"]))
    message = str(caught.value)
    assert "\n" not in message and message.startswith("3 problems: (1) The checkpoint ")
    assert "(2) The LoRA 'my_style.safetensors' is not in ComfyUI's loras folder; it has: " \
        "mia.safetensors." in message
    assert "(3) KSampler (node 3) has sampler_name 'eulr', which ComfyUI does not offer" in message
    assert [p.kind for p in caught.value.problems] == [
        "missing_model", "missing_model", "not_in_list"]


def test_one_problem_is_its_own_sentence_without_a_count() -> None:
    graph = txt2img()
    graph["3"]["inputs"]["sampler_name"] = "eulr"
    with pytest.raises(WorkflowInvalid) as caught:
        check(graph, object_info())
    assert str(caught.value).startswith("KSampler (node 3) has sampler_name 'eulr'")


def test_missing_custom_node_pack_is_named() -> None:
    graph = txt2img()
    graph["20"] = {"class_type": "VHS_VideoCombine",
                   "inputs": {"images": ["8", 0], "frame_rate": 8, "format": "video/h264-mp4"}}
    graph["21"] = {"class_type": "ADE_AnimateDiffLoaderGen1", "inputs": {"model": ["4", 0]}}
    graph["22"] = {"class_type": "DWPreprocessor", "inputs": {"image": ["8", 0]}}
    graph["23"] = {"class_type": "MysteryNode", "inputs": {}}
    graph["4"]["inputs"]["ckpt_name"] = "missing.safetensors"
    found = messages(graph)
    assert found[:4] == [
        "This workflow needs the custom node pack ComfyUI-VideoHelperSuite "
        "(node VHS_VideoCombine is not installed).",
        "This workflow needs the custom node pack ComfyUI-AnimateDiff-Evolved "
        "(node ADE_AnimateDiffLoaderGen1 is not installed).",
        "This workflow needs the custom node pack comfyui_controlnet_aux "
        "(node DWPreprocessor is not installed).",
        "ComfyUI has no node type MysteryNode; install the custom node pack that provides it "
        "(ComfyUI-Manager can find it)."]
    assert found[4].startswith("The checkpoint 'missing.safetensors'")  # after the packs
    with pytest.raises(InvalidInput, match="^5 problems: \\(1\\) This workflow needs the custom "
                       "node pack ComfyUI-VideoHelperSuite .* \\(5\\) The checkpoint 'missing"):
        check(graph, object_info())


def test_several_nodes_of_one_pack_make_one_sentence() -> None:
    graph = txt2img()
    graph["20"] = {"class_type": "VHS_LoadVideo", "inputs": {}}
    graph["21"] = {"class_type": "VHS_VideoCombine", "inputs": {"images": ["20", 0]}}
    assert messages(graph) == ["This workflow needs the custom node pack ComfyUI-VideoHelperSuite"
                               " (nodes VHS_LoadVideo, VHS_VideoCombine are not installed)."]
    assert custom_pack("KSampler") is None


def test_sampler_not_offered_lists_the_close_ones_first() -> None:
    graph = txt2img()
    graph["3"]["inputs"]["sampler_name"] = "eulr"
    [message] = messages(graph)
    assert message.startswith("KSampler (node 3) has sampler_name 'eulr', which ComfyUI does not "
                              "offer; it has: euler, ")
    assert message.endswith("more).")


def test_new_style_combo_value_is_checked_too() -> None:
    graph = {"1": {"class_type": "EmptyImage",
                   "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
             "2": {"class_type": "SaveWEBM",
                   "inputs": {"images": ["1", 0], "filename_prefix": "x", "codec": "h265",
                              "fps": 24.0, "crf": 32.0}}}
    assert messages(graph) == ["SaveWEBM (node 2) has codec 'h265', which ComfyUI does not offer;"
                               " it has: vp9, av1."]


def test_numbers_are_checked_against_comfyuis_limits() -> None:
    graph = txt2img()
    graph["3"]["inputs"]["steps"] = 0
    graph["3"]["inputs"]["cfg"] = 101
    graph["5"]["inputs"]["batch_size"] = "many"
    graph["5"]["inputs"]["width"] = "768"  # ComfyUI coerces text literals, so this is fine
    assert messages(graph) == [
        "EmptyLatentImage (node 5) has batch_size 'many', which is not a whole number.",
        "KSampler (node 3) has steps 0, below ComfyUI's minimum of 1.",
        "KSampler (node 3) has cfg 101, above ComfyUI's maximum of 100.0."]


def test_required_input_missing_is_named() -> None:
    # As ComfyUI answered for EmptyImage without color (POST_prompt_errors.json).
    graph = {"1": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 48,
                                                          "batch_size": 2}},
             "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0],
                                                         "filename_prefix": "p"}}}
    assert messages(graph) == ["EmptyImage (node 1) is missing its required input 'color'.",
                               "EmptyImage (node 1) has width 0, below ComfyUI's minimum of 1."]


def test_links_must_point_at_existing_nodes_outputs_of_the_right_type() -> None:
    graph = txt2img()
    graph["8"]["inputs"]["vae"] = ["99", 2]
    graph["6"]["inputs"]["clip"] = ["10", 5]
    graph["9"]["inputs"]["images"] = ["3", 0]
    graph["7"]["inputs"]["clip"] = ["10", 1, 0]
    assert messages(graph) == [
        "CLIPTextEncode (node 6) input 'clip' is linked to output 5 of LoraLoader (node 10), "
        "which has 2 outputs.",
        "CLIPTextEncode (node 7) input 'clip' is a list but not a link [node_id, output_index].",
        "VAEDecode (node 8) input 'vae' is linked to node 99, which is not in the workflow.",
        "SaveImage (node 9) input 'images' expects IMAGE but is linked to KSampler (node 3), "
        "which gives LATENT."]


def test_a_value_where_a_link_is_needed_is_refused() -> None:
    graph = txt2img()
    graph["3"]["inputs"]["model"] = "v1-5-pruned-emaonly.safetensors"
    assert messages(graph) == ["KSampler (node 3) input 'model' takes a MODEL and must be linked "
                               "to another node's output, not given a value."]


def test_graph_without_output_node_is_refused_as_comfyui_would() -> None:
    graph = txt2img()
    del graph["9"]
    assert messages(graph) == ["The workflow has no output node (such as Save Image), so ComfyUI"
                               " would run nothing."]


def test_load_image_name_is_left_to_comfyui_which_checks_the_file_itself() -> None:
    # LoadImage's list is the input folder when /object_info was read; an upload made after
    # that is valid, and ComfyUI validates the file with its own VALIDATE_INPUTS.
    graph = {"1": {"class_type": "LoadImage", "inputs": {"image": "uploaded_later.png"}},
             "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0],
                                                         "filename_prefix": "p"}}}
    assert messages(graph) == []


def test_malformed_graphs_are_refused_plainly() -> None:
    assert messages({}) == ["The workflow is empty or not in ComfyUI's API format."]
    assert messages({"1": {"inputs": {}}}) == [
        "Node 1 has no class_type or inputs; the file is not in ComfyUI's API format."]


def test_a_missing_animatediff_motion_model_is_named_as_one() -> None:
    # AnimateDiff's loader calls its motion model "model_name", which core nodes use for
    # upscale models; the creator must hear which folder to fill.
    info = object_info()
    info.update(pack_nodes(["ComfyUI-AnimateDiff-Evolved"]))
    info["ADE_AnimateDiffLoaderWithContext"]["input"]["required"]["model_name"][0] = ["v3_sd15_mm.ckpt"]
    graph = txt2img()
    graph["20"] = {"class_type": "ADE_AnimateDiffLoaderWithContext",
                   "inputs": {"model": ["10", 0], "model_name": "mm_sd_v15_v2.ckpt",
                              "beta_schedule": "sqrt_linear (AnimateDiff)"}}
    graph["3"]["inputs"]["model"] = ["20", 0]
    assert messages(graph, info) == [
        "The AnimateDiff motion model 'mm_sd_v15_v2.ckpt' is not in ComfyUI's animatediff_models "
        "folder; it has: v3_sd15_mm.ckpt."]
    assert model_input("ADE_AnimateDiffLoaderWithContext", "model_name") == (
        "motion_model", "AnimateDiff motion model", "animatediff_models")
    assert model_input("UpscaleModelLoader", "model_name") == ("upscale", "upscale model", "upscale_models")
