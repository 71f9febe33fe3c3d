// What this app is about, as the request put it.
export const TITLE = {{title_js}}
export const TAGLINE = {{tagline_js}}
/** One of the things the app keeps, and several of them: "book", "books". */
export const ITEM = {{item_js}}
export const ITEMS = {{items_js}}
/** Where the list is kept in the browser's localStorage. */
export const STORAGE_KEY = {{storage_key_js}}
