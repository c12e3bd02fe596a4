import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import JoinCard from '../src/windows/JoinCard.svelte';
import * as api from '../src/lib/api';
import { setLanguage } from '../src/lib/i18n';

vi.mock('../src/lib/api', () => ({ join: vi.fn(), openWindow: vi.fn() }));

const join = vi.mocked(api.join);

describe('joining with a ticket', () => {
  afterEach(() => {
    join.mockReset();
    setLanguage('en');
  });

  it('shows a friendly message for the error code', async () => {
    join.mockRejectedValue({ code: 'ticket_expired', message: 'ticket expired at 1700000000' });
    render(JoinCard, {});
    await fireEvent.input(screen.getByTestId('ticket-input'), { target: { value: 'backstory1abc' } });
    await fireEvent.click(screen.getByTestId('join-button'));
    const error = await screen.findByTestId('pairing-error');
    expect(error.textContent).toBe('That ticket has expired. Ask for a new one.');
    expect(join).toHaveBeenCalledWith('backstory1abc');
    expect(screen.queryByTestId('safety-words')).toBeNull();
  });

  it('shows it in Chinese too, and the message itself for a code it does not know', async () => {
    setLanguage('zh-CN');
    join.mockRejectedValueOnce({ code: 'self_pairing', message: 'own ticket' });
    render(JoinCard, {});
    await fireEvent.input(screen.getByTestId('ticket-input'), { target: { value: 'backstory1abc' } });
    await fireEvent.click(screen.getByTestId('join-button'));
    expect((await screen.findByTestId('pairing-error')).textContent).toBe('这是你自己的配对码，请发给你想配对的人。');

    join.mockRejectedValueOnce({ code: 'mystery', message: 'something odd' });
    await fireEvent.click(screen.getByTestId('join-button'));
    await vi.waitFor(() => expect(screen.getByTestId('pairing-error').textContent).toBe('something odd'));
  });

  it('shows the contact and the safety words to compare once paired', async () => {
    join.mockResolvedValue({
      contact: { id: 'c1', name: 'Alice', created: 0, outbox: 'o', inbound: null, peer: 'p' },
      words: 'amber lantern river',
    } as api.Paired);
    render(JoinCard, { ticket: 'backstory1prefilled' });
    expect((screen.getByTestId('ticket-input') as HTMLTextAreaElement).value).toBe('backstory1prefilled');
    await fireEvent.click(screen.getByTestId('join-button'));
    expect((await screen.findByTestId('safety-words')).textContent).toBe('amber lantern river');
    expect(screen.getByTestId('join-result').textContent).toContain('You’re paired with Alice');
    expect(screen.getByTestId('join-result').textContent).toContain('Compare these words');
  });
});
