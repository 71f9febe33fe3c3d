import { cleanup, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App'
import { ITEM, STORAGE_KEY } from './config'

function newItemInput(): HTMLInputElement {
  return screen.getByRole('textbox', { name: `New ${ITEM}` })
}

function openCount(): string | null {
  return document.getElementById('open-count')?.textContent ?? null
}

function listed(): string[] {
  const list = document.getElementById('items')
  if (!list) throw new Error('the list #items is missing')
  return within(list)
    .queryAllByRole('listitem')
    .map((li) => li.querySelector('.item-text')?.textContent ?? '')
}

function checkboxOf(text: string): HTMLInputElement {
  return screen.getByRole('checkbox', { name: text })
}

beforeEach(() => {
  window.localStorage.clear()
})

afterEach(() => {
  cleanup()
})

describe({{title_js}}, () => {
  it('adds an item by typing and pressing Enter', async () => {
    const user = userEvent.setup()
    render(<App storage={window.localStorage} />)
    expect(openCount()).toBe('0')

    await user.type(newItemInput(), 'First thing{Enter}')

    expect(listed()).toEqual(['First thing'])
    expect(openCount()).toBe('1')
    expect(newItemInput().value).toBe('')
  })

  it('adds an item with the Add button, and ignores blank text', async () => {
    const user = userEvent.setup()
    render(<App storage={window.localStorage} />)

    await user.type(newItemInput(), '   ')
    await user.click(screen.getByRole('button', { name: 'Add' }))
    expect(listed()).toEqual([])

    await user.type(newItemInput(), 'Second thing')
    await user.click(screen.getByRole('button', { name: 'Add' }))
    expect(listed()).toEqual(['Second thing'])
  })

  it('ticks an item off and back, and counts only the open ones', async () => {
    const user = userEvent.setup()
    render(<App storage={window.localStorage} />)
    await user.type(newItemInput(), 'One{Enter}')
    await user.type(newItemInput(), 'Two{Enter}')
    expect(openCount()).toBe('2')

    await user.click(checkboxOf('One'))
    expect(checkboxOf('One').checked).toBe(true)
    expect(openCount()).toBe('1')

    await user.click(checkboxOf('One'))
    expect(checkboxOf('One').checked).toBe(false)
    expect(openCount()).toBe('2')
  })

  it('removes an item', async () => {
    const user = userEvent.setup()
    render(<App storage={window.localStorage} />)
    await user.type(newItemInput(), 'Keep{Enter}')
    await user.type(newItemInput(), 'Drop{Enter}')

    await user.click(screen.getByRole('button', { name: 'Remove Drop' }))

    expect(listed()).toEqual(['Keep'])
    expect(openCount()).toBe('1')
  })

  it('keeps the list in localStorage, so it survives a reload', async () => {
    const user = userEvent.setup()
    const first = render(<App storage={window.localStorage} />)
    await user.type(newItemInput(), 'Saved{Enter}')
    await user.type(newItemInput(), 'Also saved{Enter}')
    await user.click(checkboxOf('Saved'))
    expect(window.localStorage.getItem(STORAGE_KEY)).toContain('Also saved')
    first.unmount()

    render(<App storage={window.localStorage} />)

    expect(listed()).toEqual(['Saved', 'Also saved'])
    expect(checkboxOf('Saved').checked).toBe(true)
    expect(openCount()).toBe('1')
  })

  it('starts empty when the saved list is unreadable', () => {
    window.localStorage.setItem(STORAGE_KEY, '{not json')
    render(<App storage={window.localStorage} />)
    expect(listed()).toEqual([])
    expect(openCount()).toBe('0')
  })
})
