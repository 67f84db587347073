import * as React from 'react';

import type { Problem } from '../properties';
import { placeLabel, problemPlace, sortedProblems } from './model';

export interface IProblemsListProps {
  problems: readonly Problem[];
  /** Whether the list is open (the header always shows the counts). */
  open: boolean;
  toggle(): void;
  /** Select the node or field a problem points to. */
  reveal(problem: Problem): void;
}

/** `2 errors, 1 warning`, or `No problems`. */
export function problemCount(problems: readonly Problem[]): string {
  const warnings = problems.filter(p => p.severity === 'warning').length;
  const errors = problems.length - warnings;
  if (problems.length === 0) return 'No problems';
  const part = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [errors ? part(errors, 'error') : '', warnings ? part(warnings, 'warning') : ''].filter(Boolean).join(', ');
}

/** The validation problems of the document, under the canvas: a click on one shows where it is. */
export function ProblemsList(props: IProblemsListProps): JSX.Element {
  const { problems } = props;
  const errors = problems.filter(p => p.severity !== 'warning').length;
  return (
    <div className="jp-WorkflowProblems" data-count={problems.length} data-open={props.open ? 'true' : 'false'}>
      <button
        className="jp-WorkflowProblems-header"
        aria-expanded={props.open}
        onClick={props.toggle}
        title={props.open ? 'Hide the problems' : 'Show the problems'}
      >
        <span className={'jp-WorkflowProblems-caret' + (props.open ? ' jp-mod-open' : '')}>▸</span>
        Problems
        <span className="jp-WorkflowProblems-count" data-errors={errors} data-warnings={problems.length - errors}>
          {problemCount(problems)}
        </span>
      </button>
      {props.open && problems.length > 0 && (
        <ul className="jp-WorkflowProblems-list" role="list">
          {sortedProblems(problems).map((p, i) => {
            const severity = p.severity === 'warning' ? 'warning' : 'error';
            return (
              <li key={i} className="jp-WorkflowProblems-item" data-severity={severity} data-pointer={p.pointer}>
                <button className="jp-WorkflowProblems-itemButton" onClick={() => props.reveal(p)} title={`Show ${p.pointer || 'the workflow'}`}>
                  <span className="jp-WorkflowProblems-severity">{severity}</span>
                  <span className="jp-WorkflowProblems-message">{p.message}</span>
                  <span className="jp-WorkflowProblems-where" title={p.pointer}>
                    {placeLabel(problemPlace(p.pointer))} <code>{p.pointer}</code>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
