import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';
import { CommandToolbarButton, fileIcon, refreshIcon, runIcon, stopIcon } from '@jupyterlab/ui-components';

import { Signal } from '@lumino/signaling';

import { formTab, formTabId, formView } from './form';
import { addRunHistory, HISTORY_ID, HistoryTarget, isRunOf, versionTab, versionViewId, workflowNameOf } from './history';
import { formIcon, workflowIcon } from './icons';
import { palettePlugin } from './palette';
import { notebookTab } from './notebook';
import { RunClient, refusalText } from './run';
import { addSchedules, schedulesIcon } from './schedules';
import { FACTORY, RunStatusLine, WorkflowEditor, WorkflowEditorFactory } from './widget';

export const FILE_TYPE = 'workflow';
export const NEW_WORKFLOW = 'jupyter-workflow:new';
export const DELETE_SELECTION = 'jupyter-workflow:delete-selection';
export const UNDO = 'jupyter-workflow:undo';
export const COPY = 'jupyter-workflow:copy';
export const CUT = 'jupyter-workflow:cut';
export const PASTE = 'jupyter-workflow:paste';
export const REDO = 'jupyter-workflow:redo';
export const ARRANGE = 'jupyter-workflow:arrange';
export const RUN = 'jupyter-workflow:run';
export const CANCEL = 'jupyter-workflow:cancel';
export const RETRY = 'jupyter-workflow:retry';
export const OPEN_NODE_NOTEBOOK = 'jupyter-workflow:open-node-notebook';
export const SHOW_RUN_VERSION = 'jupyter-workflow:show-run-version';
export const OPEN_AS_FORM = 'jupyter-workflow:open-as-form';
export const SCHEDULES = 'jupyter-workflow:schedules';
/** Where the canvas's keyboard shortcuts apply. */
const CANVAS_SELECTOR = '.jp-WorkflowEditor';

/** Whether the focus is in a field, where keys are the field's (renaming a node). */
function typing(): boolean {
  const active = document.activeElement;
  return !!active && (active.tagName === 'INPUT' || active.tagName === 'TEXTAREA' || (active as HTMLElement).isContentEditable);
}

/** What "New Workflow" writes: the smallest valid workflow. */
export const EMPTY_WORKFLOW = { format: 'jupyter-workflow/1', nodes: {} };

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workflow:editor',
  description: 'A graph editor for *.workflow.json files.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ILayoutRestorer, ILauncher, ICommandPalette, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    restorer: ILayoutRestorer | null,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    app.docRegistry.addFileType({
      name: FILE_TYPE,
      displayName: 'Workflow',
      extensions: ['.workflow.json'],
      mimeTypes: ['application/json'],
      fileFormat: 'text',
      contentType: 'file',
      icon: workflowIcon
    });

    const factory = new WorkflowEditorFactory({
      name: FACTORY,
      label: 'Workflow Editor',
      modelName: 'text',
      fileTypes: [FILE_TYPE],
      defaultFor: [FILE_TYPE]
    });
    const tracker = new WidgetTracker<WorkflowEditor>({ namespace: 'jupyter-workflow' });
    if (restorer) {
      void restorer.restore(tracker, {
        command: 'docmanager:open',
        args: widget => ({ path: widget.context.path, factory: FACTORY }),
        name: widget => widget.context.path
      });
    }
    // The run history works with the current editor: told when it, its file or its run changes.
    const historyTargetChanged = new Signal<object, void>(tracker);
    tracker.currentChanged.connect(() => historyTargetChanged.emit());
    factory.widgetCreated.connect((_, widget) => {
      widget.content.runChanged.connect(() => historyTargetChanged.emit());
      widget.context.pathChanged.connect(() => historyTargetChanged.emit());
      widget.context.model.contentChanged.connect(() => historyTargetChanged.emit());
      widget.content.versionChanged.connect(() => historyTargetChanged.emit());
      widget.toolbar.addItem('arrange', new CommandToolbarButton({ commands: app.commands, id: ARRANGE, label: 'Arrange' }));
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      void tracker.add(widget);
      // Run, Cancel and Retry act on this editor (its id as the argument), enabled as its run allows.
      const args = { id: widget.id };
      widget.toolbar.addItem('workflow-run', new CommandToolbarButton({ commands: app.commands, id: RUN, args }));
      widget.toolbar.addItem('workflow-cancel', new CommandToolbarButton({ commands: app.commands, id: CANCEL, args }));
      widget.toolbar.addItem('workflow-retry', new CommandToolbarButton({ commands: app.commands, id: RETRY, args }));
      widget.toolbar.addItem('workflow-run-status', new RunStatusLine(widget.content));
      // Icons only (their captions as tooltips): a panel split in two still shows the run's status beside the buttons.
      widget.toolbar.addItem('workflow-open-as-form', new CommandToolbarButton({ commands: app.commands, id: OPEN_AS_FORM, args, label: '' }));
      widget.toolbar.addItem('workflow-schedules', new CommandToolbarButton({ commands: app.commands, id: SCHEDULES, args, label: '' }));
      widget.content.runChanged.connect(() => {
        for (const command of [RUN, CANCEL, RETRY]) app.commands.notifyCommandChanged(command);
      });
      widget.content.openNotebook = (runId, nodeId) => void app.commands.execute(OPEN_NODE_NOTEBOOK, { runId, nodeId });
      widget.content.showVersion = runId => void app.commands.execute(SHOW_RUN_VERSION, { runId });
    });
    app.docRegistry.addWidgetFactory(factory);

    app.commands.addCommand(NEW_WORKFLOW, {
      label: args => (args.isPalette ? 'New Workflow' : 'Workflow'),
      caption: 'Create a new workflow of notebooks',
      icon: args => (args.isPalette ? undefined : workflowIcon),
      execute: async args => {
        const cwd = (args.cwd as string | undefined) ?? fileBrowser?.model.path ?? '';
        const contents = app.serviceManager.contents;
        const created = await contents.newUntitled({ path: cwd, type: 'file', ext: '.workflow.json' });
        await contents.save(created.path, {
          type: 'file',
          format: 'text',
          content: JSON.stringify(EMPTY_WORKFLOW, null, 2) + '\n'
        });
        return app.commands.execute('docmanager:open', { path: created.path, factory: FACTORY });
      }
    });
    // The canvas's shortcuts follow JupyterLab's: commands with key bindings on the canvas's selector.
    const current = (): WorkflowEditor | null => {
      const widget = tracker.currentWidget;
      return widget && widget === app.shell.currentWidget ? widget : null;
    };
    /** The workflow file selected in the file browser, if one is. */
    const selectedWorkflow = (): string | null => {
      const item = fileBrowser?.selectedItems().next();
      return item && !item.done && item.value.name.endsWith('.workflow.json') ? item.value.path : null;
    };
    /** The editor a command acts on: the one named by `args.id`, else the current one. */
    const target = (args: { id?: unknown }): WorkflowEditor | null =>
      (typeof args.id === 'string' ? tracker.find(w => w.id === args.id) : undefined) ?? current();
    app.commands.addCommand(RUN, {
      label: args => (args.isPalette ? 'Run Workflow' : 'Run'),
      caption: 'Run this workflow (asks for its inputs)',
      icon: runIcon,
      isEnabled: args => {
        const editor = target(args);
        return editor !== null && !editor.content.running;
      },
      execute: args => target(args)?.content.startRun()
    });
    app.commands.addCommand(CANCEL, {
      label: args => (args.isPalette ? 'Cancel Workflow Run' : 'Cancel'),
      caption: 'Cancel the run',
      icon: stopIcon,
      isEnabled: args => target(args)?.content.running ?? false,
      execute: args => target(args)?.content.cancelRun()
    });
    app.commands.addCommand(RETRY, {
      label: args => (args.isPalette ? 'Retry Workflow Run' : 'Retry'),
      caption: 'Run again what did not succeed in the last run',
      icon: refreshIcon,
      isEnabled: args => {
        const run = target(args)?.content.run;
        return !!run && !target(args)!.content.running && run.status !== 'succeeded';
      },
      execute: args => target(args)?.content.retryRun()
    });
    const client = new RunClient(ServerConnection.makeSettings());
    app.commands.addCommand(OPEN_AS_FORM, {
      label: args => (args.isPalette ? 'Open Workflow as Form' : 'Open as Form'),
      caption: "Open the workflow's form (its app notebook, made beside it if there is none), rendered by Voilà",
      icon: formIcon,
      isEnabled: args => (args.fromFileBrowser ? selectedWorkflow() !== null : target(args) !== null),
      execute: async args => {
        const editor = args.fromFileBrowser ? null : target(args);
        const path = editor?.context.path ?? selectedWorkflow();
        if (!path) return;
        if (editor?.context.model.dirty) await editor.context.save();
        let view;
        try {
          view = formView(await client.makeApp(path), client.settings.baseUrl);
        } catch (e) {
          void showErrorMessage('Open as Form', refusalText('The form did not open', e));
          return;
        }
        if (view.kind === 'notebook') {
          await app.commands.execute('docmanager:open', { path: view.app });
          return;
        }
        const id = formTabId(view.app);
        if (![...app.shell.widgets('main')].some(w => w.id === id)) {
          app.shell.add(formTab(view), 'main', editor ? { ref: editor.id, mode: 'split-right' } : { mode: 'split-right' });
        }
        app.shell.activateById(id);
      }
    });
    const history = addRunHistory(app, restorer, {
      client,
      targetChanged: historyTargetChanged,
      target: (): HistoryTarget | null => {
        const panel = tracker.currentWidget?.content;
        if (!panel) return null;
        return {
          path: panel.path,
          workflowName: workflowNameOf(panel.document, panel.path),
          shownRunId: panel.run?.runId ?? null,
          showRecord: run => panel.showRecord(run),
          clearRun: () => panel.clearRun(),
          compareRun: run => panel.compareRun(run.content_hash)
        };
      },
      showVersion: run => void app.commands.execute(SHOW_RUN_VERSION, { runId: run.id })
    });
    const schedules = addSchedules(app, restorer, {
      client,
      targetChanged: historyTargetChanged,
      target: () => {
        const editor = tracker.currentWidget;
        return editor ? { path: editor.context.path, save: () => (editor.context.model.dirty ? editor.context.save() : Promise.resolve()) } : null;
      },
      showRun: runId => {
        app.shell.activateById(HISTORY_ID);
        void history.list.select(runId);
      },
      showVersion: runId => void app.commands.execute(SHOW_RUN_VERSION, { runId })
    });
    app.commands.addCommand(SCHEDULES, {
      label: args => (args.isPalette ? 'Schedule Workflow…' : 'Schedule…'),
      caption: 'Run this workflow on a cron schedule; the schedules of every workflow',
      icon: args => (args.isPalette ? undefined : schedulesIcon),
      execute: args => {
        app.shell.activateById(schedules.id);
        if (target(args) !== null) schedules.openForm();
      }
    });
    app.commands.addCommand(SHOW_RUN_VERSION, {
      label: 'Show the Version a Run Was Made From',
      caption: "Open the workflow a run was made from, read-only, with the run's node states",
      icon: workflowIcon,
      execute: async args => {
        const runId = String(args.runId);
        const id = versionViewId(runId);
        if ([...app.shell.widgets('main')].some(w => w.id === id)) {
          app.shell.activateById(id);
          return;
        }
        const run = await client.getRun(runId);
        const version = await client.getVersion(run.content_hash);
        // The editor of the run's file, when one is open: its saved file tells what changed since.
        const editor = tracker.find(w => isRunOf(run, w.context.path, workflowNameOf(w.content.document, w.context.path)));
        const widget = versionTab({
          run,
          version,
          path: editor?.context.path ?? run.workflow_path,
          saved: editor?.content.saved ?? null,
          client,
          openNotebook: (r, nodeId) => void app.commands.execute(OPEN_NODE_NOTEBOOK, { runId: r, nodeId })
        });
        app.shell.add(widget, 'main', editor ? { ref: editor.id, mode: 'split-right' } : { mode: 'split-right' });
        app.shell.activateById(widget.id);
      }
    });
    app.commands.addCommand(OPEN_NODE_NOTEBOOK, {
      label: 'Open Executed Notebook',
      caption: "Open a run's node's executed notebook, read-only",
      icon: fileIcon,
      execute: async args => {
        const runId = String(args.runId);
        const nodeId = String(args.nodeId);
        const id = `jp-workflow-notebook-${runId}-${nodeId}`;
        const open = [...app.shell.widgets('main')].find(w => w.id === id);
        if (open) {
          app.shell.activateById(id);
          return;
        }
        const notebook = await client.getNodeNotebook(runId, nodeId);
        const widget = notebookTab(notebook, rendermime, runId, nodeId);
        app.shell.add(widget, 'main', { mode: 'split-right' });
        app.shell.activateById(widget.id);
      }
    });
    app.commands.addCommand(DELETE_SELECTION, {
      label: 'Delete Selected Nodes and Edges',
      isEnabled: () => current() !== null && !typing(),
      execute: () => void current()?.content.deleteSelection()
    });
    app.commands.addCommand(UNDO, {
      label: 'Undo Workflow Edit',
      isEnabled: () => current() !== null && !typing(),
      execute: () => current()?.content.undo()
    });
    app.commands.addCommand(REDO, {
      label: 'Redo Workflow Edit',
      isEnabled: () => current() !== null && !typing(),
      execute: () => current()?.content.redo()
    });
    app.commands.addCommand(COPY, {
      label: 'Copy Selected Nodes',
      isEnabled: () => current() !== null && !typing(),
      execute: () => void current()?.content.copySelection()
    });
    app.commands.addCommand(CUT, {
      label: 'Cut Selected Nodes',
      isEnabled: () => current() !== null && !typing(),
      execute: () => void current()?.content.cutSelection()
    });
    app.commands.addCommand(PASTE, {
      label: 'Paste Nodes',
      isEnabled: () => current() !== null && !typing(),
      execute: () => void current()?.content.paste()
    });
    app.commands.addCommand(ARRANGE, {
      label: 'Arrange',
      caption: 'Lay out every node again, left to right, and save the positions',
      isEnabled: () => current() !== null,
      execute: () => current()?.content.arrange()
    });
    app.contextMenu.addItem({ command: ARRANGE, selector: '.jp-WorkflowEditor .react-flow__pane', rank: 0 });
    app.contextMenu.addItem({ command: OPEN_AS_FORM, selector: '.jp-WorkflowEditor .react-flow__pane', rank: 1 });
    app.contextMenu.addItem({
      command: OPEN_AS_FORM,
      args: { fromFileBrowser: true },
      selector: `.jp-DirListing-item[data-file-type="${FILE_TYPE}"]`,
      rank: 3
    });
    app.commands.addKeyBinding({ command: COPY, keys: ['Accel C'], selector: CANVAS_SELECTOR });
    app.commands.addKeyBinding({ command: CUT, keys: ['Accel X'], selector: CANVAS_SELECTOR });
    app.commands.addKeyBinding({ command: PASTE, keys: ['Accel V'], selector: CANVAS_SELECTOR });
    for (const keys of [['Delete'], ['Backspace']]) {
      app.commands.addKeyBinding({ command: DELETE_SELECTION, keys, selector: CANVAS_SELECTOR });
    }
    app.commands.addKeyBinding({ command: UNDO, keys: ['Accel Z'], selector: CANVAS_SELECTOR });
    for (const keys of [['Accel Shift Z'], ['Accel Y']]) {
      app.commands.addKeyBinding({ command: REDO, keys, selector: CANVAS_SELECTOR });
    }

    if (launcher) {
      launcher.add({ command: NEW_WORKFLOW, category: 'Other', rank: 1 });
    }
    if (palette) {
      palette.addItem({ command: NEW_WORKFLOW, category: 'Workflow', args: { isPalette: true } });
      palette.addItem({ command: ARRANGE, category: 'Workflow' });
      for (const command of [RUN, CANCEL, RETRY, OPEN_AS_FORM, SCHEDULES]) {
        palette.addItem({ command, category: 'Workflow', args: { isPalette: true } });
      }
    }
  }
};

export default [plugin, palettePlugin];
