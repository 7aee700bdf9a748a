import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import {
  type AlertBody,
  AlertBodySchema,
  AlertCategorySchema,
  type CaseRef,
  CountrySchema,
  type Handling,
  PrecedenceSchema,
} from '../sdk.js';
import { fromLocalInput, toLocalInput } from '../time.js';
import { FilesField } from './attachments.js';
import { ACCURACIES, draftOf, HandlingFields, handlingOf, RELIABILITIES } from './marks.js';

/** The protocol's own lists: one definition of each (protocol/v1). */
export const CATEGORIES = AlertCategorySchema.options;
export const PRECEDENCES = PrecedenceSchema.options;
const DOCUMENT_TYPES = ['passport', 'id-card', 'visa', 'vehicle-registration', 'cargo', 'other'];
const COUNTRIES = CountrySchema.options;

type Subject = Record<string, string> & { kind: 'vehicle' | 'person' | 'document' };

/** Drops empty optional fields: the schema wants them absent, not empty. */
const compact = (subject: Subject) =>
  Object.fromEntries(Object.entries(subject).filter(([, v]) => v.trim() !== ''));

/** Where a path of a refused alert is asked for in the form. */
const LABELS: Record<string, string> = {
  handling: 'marks.handling',
  evaluation: 'marks.reliability',
  case: 'alert.caseTitle',
};

/** The case an alert goes in: none, a new one (titled here), or one seen on earlier items. */
function caseFor(choice: string, title: string, status: string, cases: CaseRef[]) {
  if (choice === '') return undefined;
  const known = cases.find((c) => c.id === choice);
  return {
    id: known?.id ?? crypto.randomUUID(),
    title: known ? known.title : title.trim(),
    status,
  };
}

/** The structured alert: every field the protocol's AlertBody has, checked by its schema. */
export function AlertForm(props: {
  office: string;
  bcp: string;
  /** The office's default handling code (its Console setting). */
  handling: Handling;
  /** Cases seen on items, to file the alert under one of them. */
  cases: CaseRef[];
  /** The case the conversation is filtered by, chosen to start with. */
  inCase?: CaseRef | undefined;
  /** Files are encrypted and uploaded first (it needs a connection); rejects if they cannot be. */
  onSend: (alert: AlertBody, files: File[]) => void | Promise<void>;
  onCancel: () => void;
}) {
  const now = Date.now();
  const [handling, setHandling] = useState(draftOf(props.handling));
  const [evaluation, setEvaluation] = useState({ reliability: 'X', accuracy: '4' });
  const [caseChoice, setCaseChoice] = useState<{ choice: string; title: string; status: string }>({
    choice: props.inCase?.id ?? '',
    title: '',
    status: props.inCase?.status ?? 'open',
  });
  const [v, setV] = useState({
    category: 'suspicious-vehicle',
    precedence: 'PRIORITY',
    title: '',
    description: '',
    bcp: props.bcp,
    lat: '',
    lon: '',
    validFrom: toLocalInput(now),
    validUntil: toLocalInput(now + 24 * 3_600_000),
  });
  const [subjects, setSubjects] = useState<Subject[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [files, setFiles] = useState<File[]>([]);
  const [uploading, setUploading] = useState(false);
  const set = (key: keyof typeof v) => (e: Event) =>
    setV({ ...v, [key]: (e.target as HTMLInputElement).value });
  const setSubject = (index: number, key: string) => (e: Event) =>
    setSubjects(
      subjects.map((s, i) =>
        i === index ? { ...s, [key]: (e.target as HTMLInputElement).value } : s,
      ),
    );

  const submit = (event: Event) => {
    event.preventDefault();
    const coordinates =
      v.lat.trim() && v.lon.trim() ? { lat: Number(v.lat), lon: Number(v.lon) } : undefined;
    const candidate = {
      type: 'alert',
      category: v.category,
      precedence: v.precedence,
      title: v.title.trim(),
      description: v.description,
      location: coordinates ? { bcp: v.bcp.trim(), coordinates } : { bcp: v.bcp.trim() },
      subjects: subjects.map(compact),
      validFrom: fromLocalInput(v.validFrom),
      validUntil: fromLocalInput(v.validUntil),
      handling: handlingOf(handling),
      evaluation: {
        sourceReliability: evaluation.reliability,
        informationAccuracy: Number(evaluation.accuracy),
      },
      ...(caseChoice.choice
        ? { case: caseFor(caseChoice.choice, caseChoice.title, caseChoice.status, props.cases) }
        : {}),
    };
    const parsed = AlertBodySchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? '');
      const label =
        field in v ? t(`alert.${field}`) : field in LABELS ? t(LABELS[field] as string) : field;
      return setError(t('alert.invalid', { problem: label || issue?.message }));
    }
    if (files.length === 0) return void props.onSend(parsed.data, []);
    setUploading(true);
    setError(undefined);
    Promise.resolve(props.onSend(parsed.data, files))
      .catch((e: unknown) => {
        const reason = (e as { code?: string }).code ?? (e as Error).message;
        setError(t('attachments.failed', { reason }));
      })
      .finally(() => setUploading(false));
  };

  const field = (
    key: keyof typeof v,
    type: 'text' | 'number' | 'datetime-local' = 'text',
    required = false,
  ) => (
    <label class="field">
      <span>{t(`alert.${key}`)}</span>
      <input
        type={type as 'text'}
        name={key}
        value={v[key]}
        onInput={set(key)}
        required={required}
      />
    </label>
  );

  return (
    <form class="alert-form card" onSubmit={submit} data-testid="alert-form">
      <h3>{t('alert.formTitle', { office: props.office })}</h3>
      <div class="row">
        <label class="field">
          <span>{t('alert.category')}</span>
          <select name="category" value={v.category} onChange={set('category')}>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {t(`category.${c}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('alert.precedence')}</span>
          <select name="precedence" value={v.precedence} onChange={set('precedence')}>
            {PRECEDENCES.map((p) => (
              <option key={p} value={p}>
                {t(`precedence.${p}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {field('title', 'text', true)}
      <label class="field">
        <span>{t('alert.description')}</span>
        <textarea name="description" rows={3} value={v.description} onInput={set('description')} />
      </label>
      <div class="row">
        {field('bcp', 'text', true)}
        {field('lat', 'number')}
        {field('lon', 'number')}
      </div>
      <div class="row">
        {field('validFrom', 'datetime-local', true)}
        {field('validUntil', 'datetime-local', true)}
      </div>
      <fieldset class="marks-fields">
        <legend>{t('alert.conditions')}</legend>
        <div class="row">
          <HandlingFields draft={handling} onChange={setHandling} />
        </div>
        <div class="row">
          <label class="field">
            <span>{t('marks.reliability')}</span>
            <select
              name="reliability"
              value={evaluation.reliability}
              onChange={(e) =>
                setEvaluation({ ...evaluation, reliability: (e.target as HTMLSelectElement).value })
              }
            >
              {RELIABILITIES.map((r) => (
                <option key={r} value={r}>
                  {r} · {t(`marks.reliabilityCode.${r}`)}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t('marks.accuracy')}</span>
            <select
              name="accuracy"
              value={evaluation.accuracy}
              onChange={(e) =>
                setEvaluation({ ...evaluation, accuracy: (e.target as HTMLSelectElement).value })
              }
            >
              {ACCURACIES.map((a) => (
                <option key={a} value={String(a)}>
                  {a} · {t(`marks.accuracyCode.${a}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div class="row">
          <label class="field">
            <span>{t('marks.case')}</span>
            <select
              name="case"
              value={caseChoice.choice}
              onChange={(e) => {
                const choice = (e.target as HTMLSelectElement).value;
                const known = props.cases.find((c) => c.id === choice);
                setCaseChoice({ ...caseChoice, choice, status: known?.status ?? 'open' });
              }}
            >
              <option value="">{t('cases.none')}</option>
              <option value="new">{t('cases.new')}</option>
              {props.cases.map((c) => (
                <option key={c.id} value={c.id} class="user-text">
                  {c.title}
                </option>
              ))}
            </select>
          </label>
          {caseChoice.choice === 'new' && (
            <label class="field">
              <span>{t('alert.caseTitle')}</span>
              <input
                name="caseTitle"
                value={caseChoice.title}
                maxLength={200}
                required
                onInput={(e) =>
                  setCaseChoice({ ...caseChoice, title: (e.target as HTMLInputElement).value })
                }
              />
            </label>
          )}
          {caseChoice.choice !== '' && (
            <label class="field">
              <span>{t('alert.caseStatus')}</span>
              <select
                name="caseStatus"
                value={caseChoice.status}
                onChange={(e) =>
                  setCaseChoice({ ...caseChoice, status: (e.target as HTMLSelectElement).value })
                }
              >
                {(['open', 'closed'] as const).map((s) => (
                  <option key={s} value={s}>
                    {t(`marks.caseStatus.${s}`)}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      </fieldset>
      <fieldset class="subjects">
        <legend>{t('alert.subjects')}</legend>
        {subjects.map((s, i) => (
          <div class="row subject" key={i}>
            <strong>{t(`alert.${s.kind}`)}</strong>
            {s.kind === 'vehicle' && (
              <>
                <input
                  aria-label={t('alert.plate')}
                  placeholder={t('alert.plate')}
                  value={s.plate}
                  onInput={setSubject(i, 'plate')}
                />
                <select
                  aria-label={t('alert.country')}
                  value={s.country}
                  onChange={setSubject(i, 'country')}
                >
                  <option value="">{t('alert.country')}</option>
                  {COUNTRIES.map((c) => (
                    <option key={c} value={c}>
                      {c}
                    </option>
                  ))}
                </select>
              </>
            )}
            {s.kind === 'person' && (
              <>
                <input
                  aria-label={t('alert.name')}
                  placeholder={t('alert.name')}
                  value={s.name}
                  onInput={setSubject(i, 'name')}
                />
                <input
                  aria-label={t('alert.dateOfBirth')}
                  type="date"
                  value={s.dateOfBirth}
                  onInput={setSubject(i, 'dateOfBirth')}
                />
                <input
                  aria-label={t('alert.nationality')}
                  placeholder={t('alert.nationality')}
                  maxLength={2}
                  value={s.nationality}
                  onInput={setSubject(i, 'nationality')}
                />
              </>
            )}
            {s.kind === 'document' && (
              <>
                <select
                  aria-label={t('alert.documentType')}
                  value={s.documentType}
                  onChange={setSubject(i, 'documentType')}
                >
                  {DOCUMENT_TYPES.map((d) => (
                    <option key={d} value={d}>
                      {t(`documentType.${d}`)}
                    </option>
                  ))}
                </select>
                <input
                  aria-label={t('alert.number')}
                  placeholder={t('alert.number')}
                  value={s.number}
                  onInput={setSubject(i, 'number')}
                />
                <input
                  aria-label={t('alert.issuingCountry')}
                  placeholder={t('alert.issuingCountry')}
                  maxLength={2}
                  value={s.issuingCountry}
                  onInput={setSubject(i, 'issuingCountry')}
                />
              </>
            )}
            <button
              type="button"
              class="secondary"
              onClick={() => setSubjects(subjects.filter((_, j) => j !== i))}
            >
              {t('alert.remove')}
            </button>
          </div>
        ))}
        <div class="row">
          <button
            type="button"
            class="secondary"
            onClick={() => setSubjects([...subjects, { kind: 'vehicle', plate: '', country: '' }])}
          >
            {t('alert.addVehicle')}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() =>
              setSubjects([
                ...subjects,
                { kind: 'person', name: '', dateOfBirth: '', nationality: '' },
              ])
            }
          >
            {t('alert.addPerson')}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() =>
              setSubjects([
                ...subjects,
                { kind: 'document', documentType: 'passport', number: '', issuingCountry: '' },
              ])
            }
          >
            {t('alert.addDocument')}
          </button>
        </div>
      </fieldset>
      <FilesField name="attachments" onChange={setFiles} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button type="submit" class="primary" disabled={uploading}>
          {uploading ? t('attachments.uploading') : t('alert.send')}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          {t('alert.cancel')}
        </button>
      </div>
    </form>
  );
}
