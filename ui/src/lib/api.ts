// The one door from the windows to the back end: every command, unwrapped (an error result
// becomes a thrown `ApiError` with its code), plus the few Tauri APIs the windows use. Components
// import from here only, so tests can replace this module.

import { convertFileSrc } from '@tauri-apps/api/core';
import { open } from '@tauri-apps/plugin-dialog';
import { commands } from './bindings';

type Commands = typeof commands;
type Answer<K extends keyof Commands> = Awaited<ReturnType<Commands[K]>>;
type Data<K extends keyof Commands> = Extract<Answer<K>, { status: 'ok' }>['data'];

// The types the windows see, taken from the commands themselves so they follow the generated file.
export type Profile = Data<'profile'>;
export type ContactCard = Data<'contacts'>[number];
export type PeerState = ContactCard['state'];
export type Invite = Data<'invite'>;
export type Paired = Data<'join'>;
export type PendingJoin = Data<'pending'>[number];
export type MyPanel = Data<'myPanel'>;
export type MyEntry = MyPanel['entries'][number];
export type Entry = MyEntry['entry'];
export type EntryKind = Entry['kind'];
export type Category = MyPanel['categories'][number];
export type Visibility = MyEntry['visibility'];
export type VisibilityRule = Visibility['rule'];
export type NewEntryInput = Parameters<Commands['postEntry']>[1];
export type EntryEdit = Parameters<Commands['editEntry']>[1];
export type TheirPanel = Data<'theirPanel'>;
export type ChangedEntry = TheirPanel['changes']['entries'][number];
export type EntryState = ChangedEntry['state'];
export type Span = ChangedEntry['spans'][number];
export type WindowKind = Parameters<Commands['openWindow']>[0];
export type MediaRef = Extract<Entry, { kind: 'image' }>['media'];

/** An error a command answered with: a stable `code` to switch on, and the back end's message. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/** Turns anything thrown or answered into an `ApiError`. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const { code, message } = e as { code: string; message?: unknown };
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
export const setNetwork = (mode: string) => call(commands.setNetwork(mode));
export const setLanguage = (language: string | null) => call(commands.setLanguage(language));
export const setReceipts = (on: boolean) => call(commands.setReceipts(on));
export const setLanDiscovery = (on: boolean) => call(commands.setLanDiscovery(on));
export const contacts = () => call(commands.contacts());
export const removeContact = (contact: string) => call(commands.removeContact(contact));
export const openWindow = (kind: WindowKind, contact: string | null = null, ticket: string | null = null) =>
  call(commands.openWindow(kind, contact, ticket));
export const invite = (ttlHours: number, approval: boolean) => call(commands.invite(ttlHours, approval));
export const join = (ticket: string) => call(commands.join(ticket));
export const pending = () => call(commands.pending());
export const decideJoin = (id: number, approve: boolean) => call(commands.decideJoin(id, approve));
export const myPanel = (contact: string) => call(commands.myPanel(contact));
export const postEntry = (contact: string, entry: NewEntryInput) => call(commands.postEntry(contact, entry));
export const editEntry = (entry: string, edit: EntryEdit) => call(commands.editEntry(entry, edit));
export const deleteEntry = (entry: string) => call(commands.deleteEntry(entry));
export const addCategory = (contact: string, name: string) => call(commands.addCategory(contact, name));
export const renameCategory = (contact: string, category: string, name: string) =>
  call(commands.renameCategory(contact, category, name));
export const moveCategory = (contact: string, category: string, index: number) =>
  call(commands.moveCategory(contact, category, index));
export const removeCategory = (contact: string, category: string) =>
  call(commands.removeCategory(contact, category));
export const parseWhen = (text: string) => call(commands.parseWhen(text));
export const theirPanel = (contact: string) => call(commands.theirPanel(contact));
export const markSeen = (contact: string, heads: string[]) => call(commands.markSeen(contact, heads));
export const fetchMedia = (contact: string, entry: string) => call(commands.fetchMedia(contact, entry));

/** Asks for one file with the system's picker; null when cancelled. */
export async function pickFile(title: string): Promise<string | null> {
  try {
    const chosen = await open({ title, multiple: false, directory: false });
    return typeof chosen === 'string' ? chosen : null;
  } catch (e) {
    throw toApiError(e);
  }
}

/** A URL the webview may load for a verified local media file. */
export function mediaSrc(path: string): string {
  return convertFileSrc(path);
}
