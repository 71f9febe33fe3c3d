// The list and its rules, apart from React, so they read (and test) on their own.

export interface Item {
  id: string
  text: string
  done: boolean
}

/** Longest text an item keeps; the input allows no more. */
export const MAX_TEXT = 200

let counter = 0

function newId(): string {
  counter += 1
  return `${Date.now().toString(36)}-${counter}`
}

/** The list with a new open item at the end; blank text adds nothing. */
export function addItem(items: Item[], text: string): Item[] {
  const clean = text.trim().slice(0, MAX_TEXT)
  return clean ? [...items, { id: newId(), text: clean, done: false }] : items
}

export function toggleItem(items: Item[], id: string): Item[] {
  return items.map((item) => (item.id === id ? { ...item, done: !item.done } : item))
}

export function removeItem(items: Item[], id: string): Item[] {
  return items.filter((item) => item.id !== id)
}

export function openCount(items: Item[]): number {
  return items.filter((item) => !item.done).length
}

function isItem(value: unknown): value is Item {
  if (typeof value !== 'object' || value === null) return false
  const item = value as Record<string, unknown>
  return typeof item.id === 'string' && typeof item.text === 'string' && typeof item.done === 'boolean'
}

/** The saved list; anything missing, unreadable or malformed reads as an empty list. */
export function loadItems(storage: Storage, key: string): Item[] {
  try {
    const saved: unknown = JSON.parse(storage.getItem(key) ?? '[]')
    return Array.isArray(saved) ? saved.filter(isItem) : []
  } catch {
    return []
  }
}

/** Saves the list; a full or blocked storage leaves the list working for this visit only. */
export function saveItems(storage: Storage, key: string, items: Item[]): void {
  try {
    storage.setItem(key, JSON.stringify(items))
  } catch {
    // Nothing to do: the page keeps working, it just will not remember.
  }
}
