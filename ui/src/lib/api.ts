// The one door from the windows to the back end: every command, unwrapped (an error result
// becomes a thrown `ApiError` with its code), plus the few Tauri APIs the windows use. The commands
// are the engine's operations, one each, with the same names as everywhere else (`post_entry` is
// `postEntry` here). Components import from here only, so tests can replace this module.

import { convertFileSrc } from '@tauri-apps/api/core';
import { getCurrentWindow } from '@tauri-apps/api/window';
import { open, save } from '@tauri-apps/plugin-dialog';
import { commands, type ErrorCode } from './bindings';

type Commands = typeof commands;
type Answer<K extends keyof Commands> = Awaited<ReturnType<Commands[K]>>;
type Data<K extends keyof Commands> = Extract<Answer<K>, { status: 'ok' }>['data'];

// The types the windows see, taken from the commands themselves so they follow the generated file.
export type { ErrorCode };
export type Profile = Data<'profile'>;
export type Preferences = Data<'settings'>;
export type ContactCard = Data<'contacts'>[number];
export type PeerState = ContactCard['state'];
export type PanelProblem = NonNullable<ContactCard['theirs']['problem']>;
export type Invite = Data<'invite'>;
export type Paired = Data<'join'>;
export type PendingJoin = Data<'pendingJoins'>[number];
export type MyPanel = Data<'myPanel'>;
export type MyEntry = MyPanel['entries'][number];
export type Entry = MyEntry['entry'];
export type EntryKind = Entry['kind'];
export type Category = MyPanel['categories'][number];
export type Visibility = MyEntry['visibility'];
export type VisibilityRule = Visibility['rule'];
export type NewEntry = Parameters<Commands['postEntry']>[1];
export type EntryEdit = Parameters<Commands['editEntry']>[1];
export type Draft = Data<'drafts'>[number];
export type InboxView = Data<'inbox'>;
export type Posted = Data<'postEntry'>;
export type ScreenSources = Data<'screens'>;
export type Shot = Data<'takeScreenshot'>;
export type ScreenTarget = Parameters<Commands['takeScreenshot']>[1];
export type CropRect = Parameters<Commands['cropScreenshot']>[1];
export type AllowRule = InboxView['rules'][number];
export type WatcherState = InboxView['watcher'];
export type DraftEdit = Parameters<Commands['commitDraft']>[2];
export type TheirPanel = Data<'theirPanel'>;
export type ChangedEntry = TheirPanel['changes']['entries'][number];
export type EntryState = ChangedEntry['state'];
export type Span = ChangedEntry['spans'][number];
export type InspectedDoc = Data<'inspect'>[number];
export type WindowKind = Parameters<Commands['openWindow']>[0];
export type MediaRef = Extract<Entry, { kind: 'image' }>['media'];
export type FeedbackView = Data<'feedback'>;
export type CommentView = FeedbackView['comments'][number];
export type SessionView = FeedbackView['sessions'][number];
export type EntryStats = FeedbackView['entries'][number];
export type ChatView = Data<'chat'>;
export type ChatItem = ChatView['items'][number];
export type AudioInput = NonNullable<Parameters<Commands['comment']>[3]>;
export type Signal = Parameters<Commands['viewSignal']>[3];

/** An error a command answered with: a stable `code` to switch on, and the back end's message. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/** Turns anything thrown or answered into an `ApiError`. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const { code, message } = e as { code: ErrorCode; message?: unknown };
    return new ApiError(code, typeof message === 'string' ? message : code);
  }
  if (e instanceof Error) return new ApiError('internal', e.message);
  if (typeof e === 'string') return new ApiError('internal', e);
  return new ApiError('internal', String(e));
}

type Outcome<T> = { status: 'ok'; data: T } | { status: 'error'; error: unknown };

async function call<T>(answer: Promise<Outcome<T>>): Promise<T> {
  let r: Outcome<T>;
  try {
    r = await answer;
  } catch (e) {
    throw toApiError(e);
  }
  if (r.status === 'ok') return r.data;
  throw toApiError(r.error);
}

export const profile = () => call(commands.profile());
export const setName = (name: string) => call(commands.setName(name));
export const settings = () => call(commands.settings());
export const getSetting = (key: string) => call(commands.getSetting(key));
export const setSetting = (key: string, value: string) => call(commands.setSetting(key, value));
export const contacts = () => call(commands.contacts());
export const contact = (id: string) => call(commands.contact(id));
export const addContact = (name: string) => call(commands.addContact(name));
export const removeContact = (id: string) => call(commands.removeContact(id));
export const myPanel = (id: string) => call(commands.myPanel(id));
export const preview = (id: string) => call(commands.preview(id));
export const postEntry = (id: string, entry: NewEntry) => call(commands.postEntry(id, entry));
export const editEntry = (entry: string, edit: EntryEdit) => call(commands.editEntry(entry, edit));
export const removeEntry = (entry: string) => call(commands.removeEntry(entry));
export const refreshSnapshot = (entry: string) => call(commands.refreshSnapshot(entry));
export const removeSnapshot = (entry: string) => call(commands.removeSnapshot(entry));
export const screens = () => call(commands.screens());
export const takeScreenshot = (id: string | null, target: ScreenTarget, text: string) =>
  call(commands.takeScreenshot(id, target, text));
export const cropScreenshot = (draft: string, rect: CropRect) => call(commands.cropScreenshot(draft, rect));
export const addCategory = (id: string, name: string) => call(commands.addCategory(id, name));
export const renameCategory = (id: string, category: string, name: string) =>
  call(commands.renameCategory(id, category, name));
export const moveCategory = (id: string, category: string, position: number) =>
  call(commands.moveCategory(id, category, position));
export const removeCategory = (id: string, category: string) => call(commands.removeCategory(id, category));
export const prepareEntry = (id: string | null, entry: NewEntry) => call(commands.prepareEntry(id, entry));
export const drafts = () => call(commands.drafts());
export const commitDraft = (draft: string, to: string[], edit: DraftEdit) =>
  call(commands.commitDraft(draft, to, edit));
export const discardDraft = (draft: string) => call(commands.discardDraft(draft));
export const inbox = () => call(commands.inbox());
export const rejectSuggestion = (draft: string) => call(commands.rejectSuggestion(draft));
export const allowPlayer = (player: string, to: string[]) => call(commands.allowPlayer(player, to));
export const disallowPlayer = (player: string) => call(commands.disallowPlayer(player));
export const theirPanel = (id: string) => call(commands.theirPanel(id));
export const markSeen = (id: string, heads: string[]) => call(commands.markSeen(id, heads));
/** Fetches an entry's media from their device; answers the local copy a window may show. */
export const fetchMedia = async (id: string, entry: string) => (await call(commands.fetchMedia(id, entry, null))).path;
export const exportPanel = (id: string, path: string) => call(commands.exportPanel(id, path));
export const importPanel = (id: string, path: string) => call(commands.importPanel(id, path));
export const invite = (ttlSecs: number, approval: boolean) => call(commands.invite(ttlSecs, approval));
export const join = (ticket: string) => call(commands.join(ticket));
export const pendingJoins = () => call(commands.pendingJoins());
export const decideJoin = (id: number, approve: boolean) => call(commands.decideJoin(id, approve));
export const parseWhen = (text: string) => call(commands.parseWhen(text));
export const clock = () => call(commands.clock());
export const advanceClock = (millis: number) => call(commands.advanceClock(millis));
export const inspect = () => call(commands.inspect());
export const comment = (id: string, entry: string | null, text: string, audio: AudioInput | null = null) =>
  call(commands.comment(id, entry, text, audio));
export const removeComment = (id: string, comment: string) => call(commands.removeComment(id, comment));
export const feedback = (id: string) => call(commands.feedback(id));
/** Fetches a voice comment's recording; answers the local copy a window may play. */
export const fetchCommentAudio = async (id: string, comment: string) =>
  (await call(commands.fetchCommentAudio(id, comment, null))).path;
export const beginView = (id: string, heads: string[]) => call(commands.beginView(id, heads));
export const viewSignal = (id: string, session: string, entry: string, signal: Signal) =>
  call(commands.viewSignal(id, session, entry, signal));
export const endView = (id: string, session: string) => call(commands.endView(id, session));
export const setContactReceipts = (id: string, on: boolean) => call(commands.setContactReceipts(id, on));
export const chat = (id: string) => call(commands.chat(id));
export const sendMessage = (id: string, text: string) => call(commands.sendMessage(id, text));
export const markChatRead = (id: string) => call(commands.markChatRead(id));
export const openWindow = (kind: WindowKind, id: string | null = null, ticket: string | null = null) =>
  call(commands.openWindow(kind, id, ticket));

/** Asks for one file with the system's picker; null when cancelled. */
export async function pickFile(title: string): Promise<string | null> {
  try {
    const chosen = await open({ title, multiple: false, directory: false });
    return typeof chosen === 'string' ? chosen : null;
  } catch (e) {
    throw toApiError(e);
  }
}

/** Asks where to save a file with the system's picker; null when cancelled. */
export async function pickSaveFile(title: string, defaultPath: string): Promise<string | null> {
  try {
    return (await save({ title, defaultPath })) ?? null;
  } catch (e) {
    throw toApiError(e);
  }
}

/** A URL the webview may load for a verified local media file. */
export function mediaSrc(path: string): string {
  return convertFileSrc(path);
}

/** Hides this window while `action` runs (a screenshot should not show the app itself), then
 * brings it back to the front. */
export async function stepAside<T>(action: () => Promise<T>): Promise<T> {
  const win = getCurrentWindow();
  try {
    await win.hide();
    // Give the desktop a moment to redraw what was under the window.
    await new Promise((r) => setTimeout(r, 350));
  } catch {
    // Cannot hide (outside the app): capture as things are.
  }
  try {
    return await action();
  } finally {
    await win.show().catch(() => {});
    await win.setFocus().catch(() => {});
  }
}
