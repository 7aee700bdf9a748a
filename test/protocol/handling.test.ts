import { describe, expect, it } from 'vitest';
import { AlertBody, Body, ChatBody, Handling } from '../../protocol/v1/payload.js';
import { describeEntry, marks } from '../../src/cli/show.js';

const caseRef = {
  id: '0b0f6a9e-8c52-4d3e-9b7e-2f1c3d4e5a6b',
  title: 'Kordai route',
  status: 'open',
};
const alert = {
  type: 'alert',
  category: 'drug-seizure',
  precedence: 'FLASH',
  title: 'Heroin in a truck',
  description: '',
  location: { bcp: 'Kordai' },
  subjects: [],
  validFrom: 1,
  validUntil: 2,
};

describe('handling codes, evaluation and cases in the payload', () => {
  it('an item without them is valid as before', () => {
    expect(Body.safeParse({ type: 'chat', text: 'hi' }).success).toBe(true);
    expect(AlertBody.safeParse(alert).success).toBe(true);
  });

  it('H3 needs its restriction, and only H3 may carry one', () => {
    expect(Handling.safeParse({ code: 'H3' }).success).toBe(false);
    expect(Handling.safeParse({ code: 'H2', restriction: 'x' }).success).toBe(false);
    expect(Handling.safeParse({ code: 'H3', restriction: 'not to customs' }).success).toBe(true);
    expect(Handling.safeParse({ code: 'H4' }).success).toBe(false);
    expect(Handling.safeParse({ code: 'H3', restriction: 'x'.repeat(501) }).success).toBe(false);
  });

  it('an alert carries evaluation and a case; out-of-range grades are refused', () => {
    const evaluated = {
      ...alert,
      handling: { code: 'H2' },
      evaluation: { sourceReliability: 'B', informationAccuracy: 3 },
      case: caseRef,
    };
    expect(AlertBody.safeParse(evaluated).success).toBe(true);
    const bad = { ...evaluated, evaluation: { sourceReliability: 'D', informationAccuracy: 5 } };
    expect(AlertBody.safeParse(bad).success).toBe(false);
    expect(ChatBody.safeParse({ type: 'chat', text: 'x', evaluation: {} }).success).toBe(false);
  });

  it('the operator and the analyst see the code, the evaluation and the case first', () => {
    const body = AlertBody.parse({
      ...alert,
      handling: { code: 'H3', restriction: 'not to customs' },
      evaluation: { sourceReliability: 'B', informationAccuracy: 3 },
      case: caseRef,
    });
    expect(marks(body)).toBe('[H3: not to customs] [B3] [case Kordai route, open] ');
    const line = describeEntry({
      seq: 1,
      from: 'KZ-KORDAI',
      to: ['KG-AKZHOL'],
      kind: 'alert',
      precedence: 'FLASH',
      status: 'compliant',
      body,
    } as unknown as Parameters<typeof describeEntry>[0]);
    expect(line).toContain('[H3: not to customs] [B3] [case Kordai route, open] Heroin in a truck');
  });
});
