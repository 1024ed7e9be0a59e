from fastapi import FastAPI

app = FastAPI()
counter = 0


@app.post("/hit")
def hit():  # a def handler: runs in one of 40 threads that share `counter`
    global counter
    counter += 1  # read, add, write: another thread can run in between
    return {"hits": counter}
