import { t } from '../i18n.js';
import {
  type CaseRef,
  type Evaluation,
  EvaluationSchema,
  type Handling,
  HandlingSchema,
} from '../sdk.js';

/** The protocol's own lists (protocol/v1/payload.ts, PROTOCOL.md §8.1). */
export const HANDLING_CODES = HandlingSchema.shape.code.options;
export const RELIABILITIES = EvaluationSchema.shape.sourceReliability.options;
export const ACCURACIES = EvaluationSchema.shape.informationAccuracy.options.map((o) => o.value);

/** What an item carries about its use and its worth, all inside the ciphertext. */
export interface Marked {
  handling?: Handling | undefined;
  evaluation?: Evaluation | undefined;
  case?: CaseRef | undefined;
  forwardedFrom?: { office: string; handling: Handling } | undefined;
}

/**
 * The handling code, loud; H2 and H3 spell out their restriction (H3's is the provider's text),
 * unless `compact` (a list line: the code alone, its meaning on hover).
 */
export function HandlingMark(props: { handling: Handling; compact?: boolean }) {
  const { code, restriction } = props.handling;
  const meaning = t(`marks.handlingCode.${code}`);
  if (props.compact)
    return (
      <span class={`handling handling-${code}`} data-code={code} title={restriction ?? meaning}>
        <strong class="handling-code">{code}</strong>
      </span>
    );
  return (
    <span
      class={`handling handling-${code}`}
      data-testid="handling"
      data-code={code}
      title={meaning}
    >
      <strong class="handling-code">{code}</strong>
      {code === 'H2' && (
        <span class="restriction" data-testid="restriction">
          {meaning}
        </span>
      )}
      {code === 'H3' && (
        <span class="restriction" data-testid="restriction">
          {meaning}: <span class="user-text">{restriction}</span>
        </span>
      )}
    </span>
  );
}

export function EvaluationMark(props: { evaluation: Evaluation }) {
  const { sourceReliability: r, informationAccuracy: a } = props.evaluation;
  return (
    <span class="evaluation" data-testid="evaluation" data-code={`${r}${a}`}>
      <strong class="evaluation-code">{`${r}${a}`}</strong>{' '}
      {t('marks.evaluationText', {
        reliability: t(`marks.reliabilityCode.${r}`),
        accuracy: t(`marks.accuracyCode.${a}`),
      })}
    </span>
  );
}

export function CaseMark(props: { value: CaseRef }) {
  const { title, status } = props.value;
  return (
    <span class={`case-mark case-${status}`} data-testid="case" data-status={status}>
      {t('marks.case')}: <span class="user-text">{title}</span> · {t(`marks.caseStatus.${status}`)}
    </span>
  );
}

/** The marks on one item, first in its bubble: handling, evaluation, case, where it came from. */
export function Marks(props: { body: Marked }) {
  const { handling, evaluation, forwardedFrom } = props.body;
  const ref = props.body.case;
  if (!handling && !evaluation && !ref && !forwardedFrom) return null;
  return (
    <div class="marks" data-testid="marks">
      {handling && <HandlingMark handling={handling} />}
      {evaluation && <EvaluationMark evaluation={evaluation} />}
      {ref && <CaseMark value={ref} />}
      {forwardedFrom && (
        <span class="forwarded" data-testid="forwarded">
          {t('marks.forwarded', {
            office: forwardedFrom.office,
            code: forwardedFrom.handling.code,
          })}
        </span>
      )}
    </div>
  );
}

/** A handling code being chosen: H3 needs its restriction typed, the others need nothing. */
export interface HandlingDraft {
  code: Handling['code'];
  restriction: string;
}

export const draftOf = (h: Handling): HandlingDraft => ({
  code: h.code,
  restriction: h.restriction ?? '',
});

export const handlingOf = (d: HandlingDraft): Handling =>
  d.code === 'H3' ? { code: 'H3', restriction: d.restriction.trim() } : { code: d.code };

/** The handling select, and the restriction field when H3 is chosen. */
export function HandlingFields(props: {
  draft: HandlingDraft;
  onChange: (draft: HandlingDraft) => void;
  name?: string;
}) {
  const { draft } = props;
  const name = props.name ?? 'handling';
  return (
    <>
      <label class="field">
        <span>{t('marks.handling')}</span>
        <select
          name={name}
          value={draft.code}
          onChange={(e) =>
            props.onChange({
              ...draft,
              code: (e.target as HTMLSelectElement).value as HandlingDraft['code'],
            })
          }
        >
          {HANDLING_CODES.map((c) => (
            <option key={c} value={c}>
              {c} · {t(`marks.handlingCode.${c}`)}
            </option>
          ))}
        </select>
      </label>
      {draft.code === 'H3' && (
        <label class="field">
          <span>{t('marks.restriction')}</span>
          <input
            name={`${name}-restriction`}
            value={draft.restriction}
            maxLength={500}
            required
            onInput={(e) =>
              props.onChange({ ...draft, restriction: (e.target as HTMLInputElement).value })
            }
          />
        </label>
      )}
    </>
  );
}
