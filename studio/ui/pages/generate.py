"""Generate: pictures of an influencer through ComfyUI, and the gallery of everything made.

The Generate tab builds a request from an influencer, a workflow template and its parameters
(pickers filled from ComfyUI's /object_info and the studio's LoRA library in the background),
submits it, and follows the jobs through the app's job hub with a live preview; their pictures
land in the results strip and the Gallery tab. Influencers, LoRAs, workflows and the gallery
are read again when the live state reports a change to them. Every engine call goes through
``run_in_background``.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from studio.engine.comfyui.gallery import GalleryRow
from studio.engine.comfyui.user_workflows import is_user_workflow
from studio.engine.comfyui.workflows import LoadedTemplates, WorkflowTemplate
from studio.engine.db.changes import ChangeSet, Entity
from studio.engine.jobs.snapshot import JobSnapshot
from studio.engine.jobs.status import JobStatus
from studio.engine.loras.family import FAMILY_TITLES
from studio.ui.context import StudioContext
from studio.ui.errors import one_line
from studio.ui.models.gallery import GalleryModel
from studio.ui.pages import generate_ops as ops
from studio.ui.pages.generate_choices import PickerChoices
from studio.ui.pages.generate_memory import GenerateMemory
from studio.ui.pages.generate_recipe import RecipeLoader, input_template
from studio.ui.pages.generate_workflows import UserWorkflows
from studio.ui.shortcuts import bind
from studio.ui.tasks import run_in_background
from studio.ui.thumbnails import ThumbnailCache, load_preview
from studio.ui.widgets.comfy_dialog import ComfyDialog
from studio.ui.widgets.generate_form import GenerateControls, with_trigger
from studio.ui.widgets.generate_gallery import GalleryTab
from studio.ui.widgets.generate_progress import PREVIEW_SIDE, GenerationJobs, ProgressPanel
from studio.ui.widgets.scrolling import scroll_page
from studio.ui.widgets.workflow_dialog import WorkflowDialog

BASES = {**FAMILY_TITLES, "other": "any model"}


class GeneratePage(QWidget):
    templates_loaded = Signal()
    choices_loaded = Signal()
    jobs_submitted = Signal(list)  # list[uuid.UUID]
    results_changed = Signal()
    message_shown = Signal(str)
    workflow_dialog_shown = Signal()
    workflow_saved = Signal(str)

    def __init__(self, context: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.templates: dict[str, WorkflowTemplate] = {}
        self.thumbnails = ThumbnailCache(context.studio.paths.cache_dir, parent=self)
        self.results = GalleryModel(self.thumbnails, context.studio.paths.assets_dir, self, thumb_size=96)
        self.watcher = GenerationJobs(context.jobs, lambda job_id: ops.preview_frame(context, job_id), self,
                                      previews_dir=ops.previews_dir(context))
        self._default_prompts: tuple[str, str] = ("", "")
        self._shown_trigger = ""  # the trigger word this page put in the prompt
        self._build()
        self.choices = PickerChoices(context, self.form, self)
        self.workflows = UserWorkflows(context, self)
        self.recipes = RecipeLoader(self)  # gallery recipes and dropped PNGs into the form
        self.memory = GenerateMemory(self)  # opens on the last workflow, prompts and values
        self._connect()
        self.reload()

    # Building --------------------------------------------------------------------------------

    def _build(self) -> None:
        self.controls = GenerateControls(self)
        controls = self.controls  # its widgets by their names on the page, as tests and users see them
        self.influencer_box, self.template_box = controls.influencer_box, controls.template_box
        self.template_note, self.comfy_line = controls.template_note, controls.comfy_line
        self.prompt, self.negative, self.form = controls.prompt, controls.negative, controls.form
        self.seed_lock, self.seed, self.count = controls.seed_lock, controls.seed, controls.count
        self.generate_button, self.error_line = controls.generate_button, controls.error_line
        self.add_workflow_button, self.comfy_button = controls.add_workflow_button, controls.comfy_button
        self.edit_workflow_button = controls.edit_workflow_button
        self.panel = ProgressPanel(self)
        self.panel.results.setModel(self.results)
        splitter = QSplitter(self)
        splitter.addWidget(controls)
        splitter.addWidget(self.panel)
        splitter.setSizes([440, 520])
        generate_tab = QWidget(self)
        QVBoxLayout(generate_tab).addWidget(splitter)
        # Ctrl+Enter anywhere in the form; click() does nothing while the button is disabled.
        self.queue_shortcut = bind(generate_tab, "generate.queue", self.generate_button.click)

        self.gallery = GalleryTab(self.context, self.thumbnails, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(generate_tab, "Generate")
        self.tabs.addTab(self.gallery, "Gallery")
        self.status = QLabel(self)
        self.status.setObjectName("generate-status")
        self.status.setWordWrap(True)
        layout = QVBoxLayout()
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        scroll_page(self, layout)

    def _connect(self) -> None:
        self.context.workspace_changed.connect(self._on_workspace_changed)
        self.context.live.changed.connect(self._on_changed)
        self.choices.comfy_loaded.connect(self._on_choices_loaded)
        self.choices.comfy_failed.connect(self._on_choices_failed)
        self.choices.library_loaded.connect(lambda _: self._pick_lora())
        self.influencer_box.activated.connect(self._on_influencer_activated)
        self.template_box.activated.connect(self._on_template_activated)
        self.generate_button.clicked.connect(self.generate)
        self.add_workflow_button.clicked.connect(self.workflows.choose_file)
        self.workflows.dialog_shown.connect(self.workflow_dialog_shown)
        self.workflows.saved.connect(self._on_workflow_saved)
        self.workflows.message_shown.connect(self.show_message)
        self.edit_workflow_button.clicked.connect(self.edit_current_workflow)
        self.comfy_button.clicked.connect(self.show_comfyui)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.results.doubleClicked.connect(self._on_result_double_clicked)
        self.watcher.progress_changed.connect(self.panel.show_progress)
        self.watcher.waiting_changed.connect(self.panel.show_waiting)
        self.panel.banner.attach(self.context.jobs)
        self.panel.retried.connect(self.watcher.watch)
        self.watcher.frame_ready.connect(self.panel.show_image)
        self.watcher.jobs_finished.connect(self._on_jobs_finished)
        self.gallery.message_shown.connect(self.show_message)
        self.gallery.input_chosen.connect(self.use_as_input)
        self.gallery.job_submitted.connect(self._on_rerun_submitted)

    def show_message(self, text: str) -> None:
        self.status.setText(text)
        self.message_shown.emit(text)

    # Loading ---------------------------------------------------------------------------------

    def reload(self) -> None:
        self._load_influencers()
        self._load_templates()
        self.gallery.refresh()

    def _load_influencers(self) -> None:
        context = self.context
        run_in_background(lambda: ops.influencers(context), receiver=self,
                          on_done=self._on_influencers_loaded)

    def _load_templates(self) -> None:
        context = self.context
        run_in_background(lambda: ops.templates(context), receiver=self, lane="io",
                          on_done=self._on_templates_loaded,
                          on_error=lambda exc: self.show_message(one_line(exc)))

    def _on_changed(self, changes: ChangeSet) -> None:
        """Influencers and workflows changed here or elsewhere; LoRAs and pictures are the
        pickers' and the gallery's own business."""
        if changes.touches(Entity.INFLUENCER, workspace_id=self.context.workspace_id):
            self._load_influencers()
        if changes.touches(Entity.TEMPLATE):
            context = self.context
            run_in_background(lambda: ops.templates(context), receiver=self, lane="io",
                              on_done=self._on_templates_changed, on_error=lambda exc: None)

    def _on_workspace_changed(self) -> None:
        self.results.set_rows([])
        self.reload()

    def _on_influencers_loaded(self, influencers: list[ops.Influencer]) -> None:
        wanted = self.influencer_box.currentData()
        self.influencer_box.clear()
        self.influencer_box.addItem("No influencer", None)
        for influencer in influencers:
            self.influencer_box.addItem(influencer.name, influencer)
        index = next((i for i in range(1, self.influencer_box.count())
                      if wanted and self.influencer_box.itemData(i).id == wanted.id), min(1, len(influencers)))
        self.influencer_box.setCurrentIndex(index)
        self.gallery.set_influencers(influencers)
        self._on_influencer_activated()

    def _on_templates_loaded(self, loaded: LoadedTemplates, wanted: str | None = None) -> None:
        self._fill_templates(loaded, wanted or self.template_box.currentData())
        self.select_template(self.template_box.currentData())
        self.templates_loaded.emit()

    def _on_templates_changed(self, loaded: LoadedTemplates) -> None:
        """The workflows folder changed: the list is refilled; the form is rebuilt only when
        the chosen workflow itself changed or is gone, so values being set here stay."""
        current = self.current_template()
        if current is None or loaded.templates.get(current.name) != current:
            self._on_templates_loaded(loaded)
            return
        self._fill_templates(loaded, current.name)
        self.templates_loaded.emit()

    def _fill_templates(self, loaded: LoadedTemplates, wanted: str | None) -> None:
        self.templates = dict(loaded.templates)
        self.template_box.clear()
        for name, template in self.templates.items():
            self.template_box.addItem(f"{template.title}  [{BASES.get(template.base, template.base)}]", name)
        if loaded.errors:
            self.show_message(loaded.errors[0])
        position = self.template_box.findData(wanted)
        if position < 0:
            position = max(self.template_box.findData("txt2img-sd15-lora"), 0)
        self.template_box.setCurrentIndex(position)

    def current_template(self) -> WorkflowTemplate | None:
        return self.templates.get(self.template_box.currentData() or "")

    def _on_template_activated(self, index: int) -> None:
        self.select_template(self.template_box.itemData(index))

    def select_template(self, name: str | None) -> None:
        """Shows the template's parameters with their defaults, then asks ComfyUI for choices."""
        template = self.templates.get(name or "")
        self.template_box.setCurrentIndex(self.template_box.findData(name))
        self.controls.show_template(template)
        if template is None:
            self.edit_workflow_button.setEnabled(False)
            self.template_note.setText("No workflow templates found.")
            return
        base = BASES.get(template.base, template.base)
        mine = is_user_workflow(template, self.context.studio.paths)
        self.edit_workflow_button.setEnabled(mine)
        if mine:
            shown = ", ".join(template.parameters) or "none: it runs as exported"
            self.template_note.setText(f"Your workflow · parameters: {shown}")
        else:
            self.template_note.setText(f"{base} · {template.kind}" + (
                f" — {template.description}" if template.description else ""))
        params = template.parameters
        defaults = (str(params["positive"].default or "") if "positive" in params else "",
                    str(params["negative"].default or "") if "negative" in params else "")
        for edit, old, new in ((self.prompt, self._default_prompts[0], defaults[0]),
                               (self.negative, self._default_prompts[1], defaults[1])):
            text = edit.toPlainText()
            if not text.strip() or text == with_trigger(old, self._trigger()) or text == old:
                edit.setPlainText(with_trigger(new, self._trigger()) if edit is self.prompt else new)
        self._default_prompts = defaults
        self.prompt.setEnabled("positive" in params)
        self.negative.setEnabled("negative" in params)
        self.seed_lock.setEnabled("seed" in params)
        self.load_choices(template)

    def load_choices(self, template: WorkflowTemplate) -> None:
        self.choices.load(template)

    def _on_choices_loaded(self) -> None:
        self.comfy_line.hide()
        self._pick_lora()
        self.choices_loaded.emit()

    def _on_choices_failed(self, line: str) -> None:
        self.comfy_line.setText(line + " The pickers hold the template's defaults.")
        self.comfy_line.show()
        self.choices_loaded.emit()

    # ComfyUI itself --------------------------------------------------------------------------

    def show_comfyui(self) -> None:
        context = self.context
        self.comfy_dialog = ComfyDialog(lambda: ops.comfy_state(context),
                                        lambda: ops.start_local_comfyui(context),
                                        lambda: ops.stop_local_comfyui(context), parent=self)
        self.comfy_dialog.action_finished.connect(lambda _: self.select_template(
            self.template_box.currentData()))  # the pickers ask ComfyUI again
        self.comfy_dialog.open()

    # The user's own workflows ----------------------------------------------------------------

    @property
    def workflow_dialog(self) -> WorkflowDialog | None:
        return self.workflows.dialog

    def edit_current_workflow(self) -> None:
        template = self.current_template()
        if template is not None and is_user_workflow(template, self.context.studio.paths):
            self.workflows.edit(template)

    def _on_workflow_saved(self, template: WorkflowTemplate) -> None:
        context = self.context

        def reloaded(loaded: LoadedTemplates) -> None:
            self._on_templates_loaded(loaded, wanted=template.name)
            self.workflow_saved.emit(template.name)
        run_in_background(lambda: ops.templates(context), receiver=self, lane="io",
                          on_done=reloaded, on_error=lambda exc: self.show_message(one_line(exc)))

    # Influencer, seed ------------------------------------------------------------------------

    def _trigger(self) -> str:
        influencer = self.influencer_box.currentData()
        return influencer.trigger if influencer is not None else ""

    def _on_influencer_activated(self, *_: object) -> None:
        influencer = self.influencer_box.currentData()
        self.choices.set_influencer(influencer.id if influencer is not None else None)
        trigger, text = self._trigger(), self.prompt.toPlainText()
        previous = self._shown_trigger
        if previous and previous != trigger and text.startswith(previous):
            text = text[len(previous):].lstrip(", ")  # the last influencer's word goes
        if self.prompt.isEnabled():
            self.prompt.setPlainText(with_trigger(text, trigger))
        self._shown_trigger = trigger
        if previous != trigger and "lora_name" in self.form.editors:
            self.form.set_value("lora_name", "")
        self._pick_lora()

    def _pick_lora(self) -> None:
        self.choices.pick_lora(self._trigger())

    # Generating ------------------------------------------------------------------------------

    def request_values(self) -> dict[str, object]:
        template = self.current_template()
        assert template is not None
        return self.controls.values(template, self._trigger())

    def generate(self) -> None:
        template = self.current_template()
        if template is None:
            self.error_line.setText("Choose a workflow first.")
            return
        influencer = self.influencer_box.currentData()
        influencer_id = influencer.id if influencer is not None else None
        values, count, context = self.request_values(), self.count.value(), self.context
        self.error_line.setText("")
        self.generate_button.setEnabled(False)
        run_in_background(lambda: ops.submit(context, influencer_id, template.name, values, count),
                          receiver=self, lane="io", on_done=self._on_submitted,
                          on_error=self._on_submit_failed)

    def _on_submitted(self, job_ids: list[uuid.UUID]) -> None:
        self.generate_button.setEnabled(True)
        self.panel.start(len(job_ids))
        self.watcher.watch(job_ids)
        self.show_message(f"Queued {len(job_ids)} image job{'s' if len(job_ids) > 1 else ''}.")
        self.jobs_submitted.emit(job_ids)

    def _on_submit_failed(self, exc: BaseException) -> None:
        self.generate_button.setEnabled(True)
        self.error_line.setText(one_line(exc))

    def cancel(self) -> None:
        job_ids, context = self.watcher.active_ids(), self.context
        if job_ids:
            run_in_background(lambda: ops.cancel(context, job_ids), receiver=self,
                              on_done=lambda n: self.show_message(f"Canceling {n} job(s)…"))

    def _on_jobs_finished(self, states: list[JobSnapshot]) -> None:
        done = [s.id for s in states if s.status is JobStatus.COMPLETED]
        if done:
            context = self.context
            run_in_background(lambda: ops.rows_of_jobs(context, done), receiver=self,
                              on_done=self._on_results_loaded)

    def _on_results_loaded(self, rows: list[GalleryRow]) -> None:
        known = {r.id for r in self.results.rows()}
        self.results.set_rows([r for r in rows if r.id not in known] + self.results.rows())
        self.panel.results.scrollToTop()
        if rows:  # the live preview ends on the finished picture
            source = self.context.studio.asset_path(rows[0].storage_key)
            run_in_background(lambda: load_preview(source, PREVIEW_SIDE), receiver=self, lane="io",
                              on_done=self.panel.show_image, on_error=lambda exc: None)
        self.results_changed.emit()

    def _on_rerun_submitted(self, job_id: uuid.UUID) -> None:
        self.panel.start(1)
        self.watcher.watch([job_id])
        self.show_message("Re-running with a new seed; its progress is on the Generate tab.")
        self.jobs_submitted.emit([job_id])

    def _on_result_double_clicked(self, index: QModelIndex) -> None:
        row = self.results.row_at(index.row())
        if row is not None:
            self.tabs.setCurrentWidget(self.gallery)
            if row.job_id is not None:
                self.gallery.show_job(row.job_id)

    # Use as input ----------------------------------------------------------------------------

    def use_as_input(self, path: Path) -> None:
        """Back to the Generate tab with an image-to-image or edit workflow starting from ``path``."""
        chosen = input_template(self.templates, self.current_template())
        if chosen is None:
            self.show_message("No image-to-image workflow is installed.")
            return
        if chosen is not self.current_template():
            self.select_template(chosen.name)
        image = next(p.name for p in self.current_template().parameters.values()  # type: ignore[union-attr]
                     if p.type == "image")
        self.form.set_value(image, str(path))
        self.tabs.setCurrentIndex(0)
        self.show_message(f"Image to image from {Path(path).name}.")

