import { describe, expect, it } from 'vitest';
import type { Component } from '../src/api/types';
import {
  COMPONENT_MIME, CONTENTS_MIME, CONTENTS_MIME_RICH, componentMimeData, draggedNotebook
} from '../src/palette/mime';

const readTable: Component = {
  path: 'components/read_table.ipynb', title: 'Read a table', description: '', language: 'python',
  kernel_name: 'python3', has_parameters_cell: true, parameters_known: true, parameters: {}, outputs: { table: {} }
};

describe("a component's drag", () => {
  it("uses the file browser's mime types, with the names JupyterLab's file browser uses", () => {
    expect(CONTENTS_MIME).toBe('application/x-jupyter-icontents');
    expect(CONTENTS_MIME_RICH).toBe('application/x-jupyter-icontentsrich');
    expect(COMPONENT_MIME).toBe('application/x-jupyter-workflow-component');
  });

  it('carries the path as the file browser does, a contents-model-like object and the component', async () => {
    const mime = componentMimeData(readTable, async path => ({ path, type: 'notebook', content: { cells: [] } }));
    expect(mime.types()).toEqual([CONTENTS_MIME, CONTENTS_MIME_RICH, COMPONENT_MIME]);
    expect(mime.getData(CONTENTS_MIME)).toEqual(['components/read_table.ipynb']);
    const rich = mime.getData(CONTENTS_MIME_RICH) as { model: unknown; withContent: () => Promise<unknown> };
    expect(rich.model).toEqual({ path: 'components/read_table.ipynb', name: 'read_table.ipynb', type: 'notebook' });
    await expect(rich.withContent()).resolves.toEqual({
      path: 'components/read_table.ipynb', type: 'notebook', content: { cells: [] }
    });
    expect(mime.getData(COMPONENT_MIME)).toBe(readTable);
  });

  it('names a notebook at the root by its path', () => {
    expect(draggedNotebook({ ...readTable, path: 'top.ipynb' })).toEqual({ path: 'top.ipynb', name: 'top.ipynb', type: 'notebook' });
  });
});
