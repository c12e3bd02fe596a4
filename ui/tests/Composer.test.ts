import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import Composer from '../src/windows/Composer.svelte';
import * as api from '../src/lib/api';

vi.mock('../src/lib/api', () => ({ postEntry: vi.fn(), prepareEntry: vi.fn(), parseWhen: vi.fn(), pickFile: vi.fn() }));
vi.mock('../src/lib/events', () => ({ onFileDrop: () => () => {} }));

const postEntry = vi.mocked(api.postEntry);
const parseWhen = vi.mocked(api.parseWhen);

const categories = [
  { id: 'activities', name: null },
  { id: 'c9', name: 'Garden' },
];

describe('the composer', () => {
  afterEach(() => {
    postEntry.mockReset();
    parseWhen.mockReset();
  });

  it('posts text and link into the chosen category, then clears', async () => {
    postEntry.mockResolvedValue({ entry: 'e1', note: null });
    const onposted = vi.fn();
    render(Composer, { contact: 'c1', categories, category: 'activities', onposted });
    const post = screen.getByTestId('post-button') as HTMLButtonElement;
    expect(post.disabled).toBe(true);
    expect(screen.getByTestId('category-select').textContent).toContain('Recent activities');

    await fireEvent.input(screen.getByTestId('new-text'), { target: { value: 'The route I took' } });
    await fireEvent.input(screen.getByTestId('new-link'), { target: { value: 'https://example.org/ventoux' } });
    await fireEvent.change(screen.getByTestId('category-select'), { target: { value: 'c9' } });
    await fireEvent.click(post);
    await vi.waitFor(() => expect(onposted).toHaveBeenCalledWith('e1'));
    expect(postEntry).toHaveBeenCalledWith('c1', {
      category: 'c9',
      text: 'The route I took',
      link: 'https://example.org/ventoux',
      file: null,
      visibility: { rule: 'visible' },
    });
    expect((screen.getByTestId('new-text') as HTMLTextAreaElement).value).toBe('');
  });

  it('resolves a free-text date and posts the rule with it', async () => {
    const at = Date.UTC(2026, 11, 1, 9);
    parseWhen.mockResolvedValue(at);
    postEntry.mockResolvedValue({ entry: 'e2', note: null });
    render(Composer, { contact: 'c1', categories, category: 'activities', onposted: vi.fn() });
    await fireEvent.input(screen.getByTestId('new-text'), { target: { value: 'A surprise' } });
    await fireEvent.change(screen.getByTestId('visibility-select'), { target: { value: 'reveal_after' } });
    expect((screen.getByTestId('post-button') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('when-input'), { target: { value: 'in 3 days' } });
    await vi.waitFor(() => expect(screen.getByTestId('when-resolved').textContent).toMatch(/2026/));
    expect(parseWhen).toHaveBeenCalledWith('in 3 days');
    await fireEvent.click(screen.getByTestId('post-button'));
    await vi.waitFor(() => expect(postEntry).toHaveBeenCalled());
    expect(postEntry.mock.calls[0][1].visibility).toEqual({ rule: 'reveal_after', at });
  });

  it('will not post a dated rule whose date cannot be read', async () => {
    parseWhen.mockRejectedValue({ code: 'invalid_input', message: 'cannot read' });
    render(Composer, { contact: 'c1', categories, category: 'activities', onposted: vi.fn() });
    await fireEvent.input(screen.getByTestId('new-text'), { target: { value: 'Later' } });
    await fireEvent.change(screen.getByTestId('visibility-select'), { target: { value: 'visible_until' } });
    await fireEvent.input(screen.getByTestId('when-input'), { target: { value: 'blorp' } });
    await vi.waitFor(() => expect(screen.getByTestId('when-resolved').textContent).toMatch(/can’t be read/));
    expect((screen.getByTestId('post-button') as HTMLButtonElement).disabled).toBe(true);
  });

  it('says why a link was posted without a preview', async () => {
    postEntry.mockResolvedValue({ entry: 'e3', note: 'No preview: the page did not arrive within 10 s.' });
    const onposted = vi.fn();
    render(Composer, { contact: 'c1', categories, category: 'activities', onposted });
    await fireEvent.input(screen.getByTestId('new-link'), { target: { value: 'https://slow.example.org/' } });
    await fireEvent.click(screen.getByTestId('post-button'));
    await vi.waitFor(() => expect(onposted).toHaveBeenCalledWith('e3'));
    expect(screen.getByTestId('post-note').textContent).toContain('did not arrive within 10 s');
  });
});
